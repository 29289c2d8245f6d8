"""``vbot ask``: rank the skills for a task in words and propose one action.

Deterministic and offline: BM25 over weighted fields of each skill (name, description, trigger
phrases, headings, body), with light stemming, stop words and a few domain synonyms, plus a bonus
when a whole trigger phrase occurs in the task. The proposed action is the skill's action line
whose words best match the task (its first line on a tie). Extracted values (an env id, a budget in
hours) are applied only to parameters that the action really has.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from vbot_agent.agent.skills import Skill

# BM25 constants (Robertson & Zaragoza 2009, usual values) and the weight of each field.
K1, B = 1.2, 0.75
FIELD_WEIGHTS = {"name": 3.0, "triggers": 3.0, "description": 2.0, "headings": 1.5, "body": 0.2}
PHRASE_BONUS = 2.5  # per trigger phrase whose terms all occur in the task
# A one-term phrase ("where do I start": start) earns the bonus only in a task as short as itself;
# in a longer one its word is an ordinary match ("start a 2-hour campaign" is not "where do I start").
MIN_PHRASE_TERMS = 2

_STOP_TEXT = """
a about after again all am an and any are as at be been before being but by can could did do does
doing done for from get got had has have having he her here how i if in into is it its just let me
more most my need no not now of on once only or our out over please should so some still such than
that the their them then there these they this those through to too up us very want was we were
what when where which while who why will with would you your yours it's i'm don't can't won't
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())

# Words a user types that mean a term the skills use (applied after lower-casing, before stemming).
SYNONYMS = {
    "hp": "hyperparameter", "hparam": "hyperparameter", "hparams": "hyperparameter",
    "hyperparam": "hyperparameter", "hyperparams": "hyperparameter", "lr": "learning rate",
    "xml": "mjcf", "urdf": "mjcf", "optuna": "optuna hyperparameter search",
    "automl": "automl campaign", "sweep": "search hyperparameter", "tune": "tune hyperparameter",
    "tuning": "tune hyperparameter", "ppo": "ppo train", "kp": "gain", "kd": "damping",
    "crashed": "crash", "died": "die", "dead": "die", "overnight": "overnight campaign",
    "wake": "wake_up",
    "trainer": "train trainer", "evaluate": "evaluate play", "stairs": "stair terrain", "ramp": "ramp terrain", "points": "point score",
    "finetune": "warm start checkpoint train", "exploit": "exploit reward hack", "hacking": "hack", "penalty": "penalty reward",
}

_WORD = re.compile(r"[a-z0-9_]+(?:\.[0-9]+)?")
# "fine-tune" is training on from a checkpoint, not tuning hyperparameters: one word before "tune" expands
_FINE_TUNE = re.compile(r"fine[- ]?tun(e|ed|es|ing)\b")


def stem(word: str) -> str:
    """A light suffix stripper: enough to match run/runs/running, penalty/penalties, etc."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, repl in (("ies", "y"), ("ied", "y"), ("ying", "y"), ("ing", ""), ("ers", "er"), ("ed", ""),
                         ("es", ""), ("s", ""), ("ly", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + repl
            break
    if len(word) >= 4 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]  # running -> runn -> run
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]  # tune/tuning, stage/staging
    return word


def tokens(text: str) -> list[str]:
    """Lower-cased, synonym-expanded, stemmed terms of ``text`` without stop words."""
    out: list[str] = []
    for word in _WORD.findall(_FINE_TUNE.sub("finetune", text.lower()).replace("-", " ")):
        if word in STOP_WORDS:
            continue
        for part in SYNONYMS.get(word, word).split():
            if part not in STOP_WORDS:
                out.append(stem(part))
    return out


@dataclass(frozen=True)
class Ranked:
    """One skill's score and the task terms that matched it (field by field)."""

    skill: Skill
    score: float
    matched: dict[str, list[str]]
    phrases: list[str]


def _fields(skill: Skill) -> dict[str, list[str]]:
    return {
        "name": tokens(skill.name),
        "triggers": tokens(" \n".join(t.text for t in skill.triggers)),
        "description": tokens(skill.description),
        "headings": tokens(" \n".join(h.text for h in skill.headings)),
        "body": tokens(skill.body),
    }


def rank(task: str, skills: list[Skill]) -> list[Ranked]:
    """All skills, best first (ties broken by name), scored for ``task``.

    Bare numbers of the task ("2,000,000 steps") and env ids ("section011") are values for the
    action, not topics: they do not count.
    """
    query = [t for t in tokens(task) if not t.isdigit() and not re.fullmatch(r"section\d+", t)]
    docs = [_fields(s) for s in skills]
    weighted: list[Counter] = []
    for doc in docs:
        tf: Counter = Counter()
        for field, terms in doc.items():
            for term in terms:
                tf[term] += FIELD_WEIGHTS[field]
        weighted.append(tf)
    lengths = [sum(tf.values()) for tf in weighted]
    avg_length = sum(lengths) / max(len(lengths), 1)
    n_docs = len(skills)
    query_set = set(query)
    out: list[Ranked] = []
    for skill, doc, tf, length in zip(skills, docs, weighted, lengths):
        score = 0.0
        matched: dict[str, list[str]] = {}
        for term in dict.fromkeys(query):  # each distinct term once
            if tf[term] == 0:
                continue
            df = sum(1 for other in weighted if other[term] > 0)
            idf = math.log(1 + (n_docs - df + 0.5) / (df + 0.5))
            score += idf * tf[term] * (K1 + 1) / (tf[term] + K1 * (1 - B + B * length / avg_length))
            for field, terms in doc.items():
                if term in terms:
                    matched.setdefault(field, []).append(term)
        # A trigger phrase counts when all its terms occur in the task, in any order.
        phrases = [t.text for t in skill.triggers if (terms := set(tokens(t.text))) and terms <= query_set
                   and (len(terms) >= MIN_PHRASE_TERMS or len(query_set) <= MIN_PHRASE_TERMS)]
        score += PHRASE_BONUS * len(phrases)
        out.append(Ranked(skill, round(score, 4), matched, phrases))
    return sorted(out, key=lambda r: (-r.score, r.skill.name))


# Values a task may carry for an action's parameters: `section011`, `8 hours`, `30 trials`, `1M steps`,
# `512 envs`. A count is digits (``2,000,000``, ``2_000_000``, ``2e6``, ``1.5``) with an optional
# multiplier (``k``, ``M``, ``B``, ``thousand``, ``million``, ``billion``).
_COUNT = r"(\d[\d,_]*(?:\.\d+)?(?:e\d+)?)\s*(k|m|b|thousand|million|billion)?"
_MULTIPLIERS = {None: 1, "k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "b": 1e9, "billion": 1e9}
_ENV = re.compile(r"\b(?:vbot_navigation_)?(section\d{3})\b")
_HOURS = re.compile(r"\b(\d+(?:\.\d+)?)[\s-]*(?:h|hr|hrs|hours?)\b")
# A campaign's mode, when the task names one: a search of PPO settings only, or of reward weights only.
_MODES = (("hp", re.compile(r"\b(?:hyper-?parameters?|hp|ppo settings)\b")),
          ("reward", re.compile(r"\breward[\s-]+(?:weights?|scales?|search|campaign)\b")))
_TRIALS = re.compile(rf"\b{_COUNT}\s*trials?\b")
_EPISODES = re.compile(rf"\b{_COUNT}\s*episodes?\b")
_STEPS = re.compile(rf"\b{_COUNT}\s*(?:env(?:ironment)?[\s_-]*)?steps?\b")
_ENVS = re.compile(rf"\b{_COUNT}\s*(?:parallel\s+)?(?:envs|environments|robots)\b")
# A step count belongs to the final run when the task says so; otherwise to a run or a trial.
_FINAL = re.compile(r"\bfinal\b")


def _count(match: re.Match) -> int:
    number = float(match.group(1).replace(",", "").replace("_", ""))
    return round(number * _MULTIPLIERS[match.group(2)])


def extract_values(task: str) -> dict[str, Any]:
    """Parameter values written in the task, by parameter name (only ones we recognise).

    A step count fills every step parameter it can mean (``max_env_steps`` of a run, ``trial_steps``
    of a search, or ``final_steps`` when the task says final); the caller keeps only the ones its
    action has.
    """
    text = task.lower()
    values: dict[str, Any] = {}
    if m := _ENV.search(text):
        values["env"] = f"vbot_navigation_{m.group(1)}"
    if m := _HOURS.search(text):
        values["budget_hours"] = float(m.group(1))
    for mode, pattern in _MODES:
        if pattern.search(text):
            values.setdefault("mode", mode)
    if m := _TRIALS.search(text):
        values["hp_trials"] = _count(m)
    if m := _EPISODES.search(text):
        values["episodes"] = _count(m)
    if m := _STEPS.search(text):
        keys = ("final_steps",) if _FINAL.search(text) else ("max_env_steps", "trial_steps")
        values.update(dict.fromkeys(keys, _count(m)))
    if m := _ENVS.search(text):
        values["num_envs"] = _count(m)
    return values


# Words of a task that point at one action of a skill rather than at the skill itself (stemmed
# task term -> words of action lines). Used only to choose the action line, not to rank skills, so
# that a skill's read-only default (status, audit) is replaced by a long-running action only when
# the task asks for it in so many words.
_HINTS = {
    "start": "automl", "launch": "automl", "begin": "automl", "new": "automl", "overnight": "automl",
    "search": "automl", "sweep": "automl", "tune": "automl", "optimise": "automl", "optimize": "automl",
    "crash": "resume", "die": "resume", "killed": "resume", "stopped": "resume", "interrupted": "resume",
    "continue": "resume", "newest": "latest", "half": "lr multiplier", "halve": "lr multiplier",
    "alive": "status", "budget": "status", "far": "status", "ready": "status", "progress": "status",
    "trial": "analyze", "importance": "analyze", "result": "analyze", "table": "analyze", "failed": "analyze",
    "worker": "worker", "machine": "worker", "postgres": "worker",
    "wake_up": "watch", "updated": "watch", "current": "watch",
    "environment": "envs", "exist": "envs",
    "render": "view image", "picture": "view image", "image": "view image", "look": "view",
    "fast": "bench", "speed": "bench", "throughput": "bench", "benchmark": "bench",
    "record": "video", "video": "video", "promote": "advance", "next": "advance",
    "probe": "train", "train": "train run", "diagnose": "diagnose", "why": "diagnose", "learn": "diagnose", "weight": "reward",
}
ACTION_HINTS = {stem(k): v for k, v in _HINTS.items()}


def _plain(text: str) -> set[str]:
    """Stemmed words without synonyms (action lines are our own vocabulary)."""
    return {stem(w) for w in _WORD.findall(text.lower().replace("-", " ").replace("_", " ")) if w not in STOP_WORDS}


def choose_action(task: str, skill: Skill, registry) -> tuple[int, list[str]]:
    """Index of the skill's action line that best matches ``task``, and the matched terms.

    Task terms (plus ACTION_HINTS) count most in the action's name, then in its flags, then in its
    values; the first line wins ties, so it is the skill's default.
    """
    query = set(tokens(task))
    for term in list(query):
        query |= _plain(ACTION_HINTS.get(term, ""))
    best, best_terms, best_score = 0, [], 0.0
    for index, entry in enumerate(skill.actions):
        words = entry.text.split()
        name_words = list(itertools.takewhile(lambda w: not w.startswith("-"), words))
        action, used = registry.longest_prefix(words)
        used = used if action else len(name_words)
        name = _plain(" ".join(name_words[:used]))
        flags = _plain(" ".join(w for w in words if w.startswith("--")))
        values = _plain(" ".join(w for w in words[used:] if not w.startswith("--"))) - name - flags
        parts = ((3.0, name), (1.5, flags - name), (1.0, values))
        score = sum(weight * len(query & terms) for weight, terms in parts)
        if score > best_score:
            best, best_score = index, score
            best_terms = sorted(set().union(*(query & terms for _, terms in parts)))
    return best, best_terms
