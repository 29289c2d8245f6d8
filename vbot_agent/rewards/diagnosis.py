"""Reward diagnosis of a training run: known failure modes, each from the evidence that shows it.

Reads the run (:mod:`vbot_agent.rewards.run_data`: ``experiment_meta.json`` and the TensorBoard
scalars) and applies three kinds of rules, each speaking only from evidence it has:

- config rules (:mod:`vbot_agent.rewards.config_rules`), at any age: the spawn, and every exploit
  the reward audit flags for the run's reward (``vbot reward audit --run`` on the same config);
- trend rules (:mod:`vbot_agent.rewards.log_rules`), once ``MIN_POINTS`` points are logged: what
  the per-step reward is made of, and a return that rises while nothing approaches the target;
- outcome rules, after ``MIN_ENV_STEPS``: what the policy learned.

Each :class:`Finding` carries the numbers it saw, where they came from (``source``), the likely
cause, the fix, and the ``vbot`` command that tests the fix, which always changes the run's config.
When a log rule and the audit name the same failure, they make one finding with both evidences.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from vbot_agent.rewards.config_rules import audit_findings, rule_untrained_targets, rule_unused_search_keys
from vbot_agent.rewards.findings import Finding
from vbot_agent.rewards.log_rules import MIN_ENV_STEPS, MIN_POINTS, OUTCOME_RULES, TREND_RULES
from vbot_agent.rewards.run_data import (
    META_FILE,
    TAG_DISTANCE,
    TAG_FALL,
    TAG_LENGTH,
    TAG_RETURN,
    TAG_STD,
    TAG_SUCCESS,
    TERM_TAG,
    RunData,
    Series,
    load_run,
    resolve_run,
)

CONFIG_RULES = (rule_untrained_targets,)
RULES = CONFIG_RULES + TREND_RULES + OUTCOME_RULES
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}

__all__ = ["META_FILE", "MIN_ENV_STEPS", "MIN_POINTS", "RULES", "TAG_DISTANCE", "TAG_FALL", "TAG_LENGTH",
           "TAG_RETURN", "TAG_STD", "TAG_SUCCESS", "TERM_TAG", "Diagnosis", "Finding", "RunData", "Series",
           "diagnose", "load_run", "render_diagnosis", "resolve_run"]


@dataclass
class Diagnosis:
    run_dir: str
    env_id: str
    findings: list[Finding] = field(default_factory=list)
    missing_series: list[str] = field(default_factory=list)
    rollout: dict[str, Any] | None = None
    env_steps: int = 0
    note: str | None = None
    audit: dict[str, Any] | None = None  # {passed, flagged} of the reward audit, when it ran

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.run_dir, "env_id": self.env_id, "env_steps": self.env_steps, "note": self.note,
                "findings": [f.to_dict() for f in self.findings], "missing_series": self.missing_series,
                "rollout": self.rollout, "audit": self.audit}


def _merge(findings: list[Finding]) -> list[Finding]:
    """One finding per id: a config (audit) finding joins the log finding of the same failure."""
    by_id: dict[str, Finding] = {}
    for f in findings:
        seen = by_id.get(f.id)
        if seen is None:
            by_id[f.id] = f
            continue
        logs, config = (seen, f) if f.source == "config" else (f, seen)
        by_id[f.id] = replace(logs, evidence={**logs.evidence, "audit": config.evidence},
                              cause=f"{logs.cause}; the audit agrees: {config.cause}",
                              source="+".join(dict.fromkeys([*logs.source.split("+"), *config.source.split("+")])))
    return list(by_id.values())


def diagnose(data: RunData, search_space: dict[str, Any] | None = None,
             audit: dict[str, Any] | None = None) -> Diagnosis:
    """Apply every rule that has its evidence to ``data``; findings sorted by severity.

    ``audit``: the reward audit of the run's config (``rewards.audit.audit_reward``), or None when it
    was not run. ``search_space``: a search-space mapping whose reward keys
    are checked against the run.
    """
    early = data.env_steps < MIN_ENV_STEPS
    rules = CONFIG_RULES + TREND_RULES + (() if early else OUTCOME_RULES)
    findings = [f for rule in rules if (f := rule(data)) is not None]
    if audit is not None:
        findings += audit_findings(data, audit)
    extra = rule_unused_search_keys(data, search_space)
    if extra is not None:
        findings.append(extra)
    findings = sorted(_merge(findings), key=lambda f: SEVERITY_ORDER.get(f.severity, 9))
    wanted = (TAG_RETURN, TAG_LENGTH, TAG_DISTANCE, TAG_SUCCESS, TAG_FALL, TAG_STD)
    missing = [t for t in wanted if data.series(t) is None]
    notes = []
    if early:
        ran = "config rules" + (", the reward audit" if audit is not None else "")
        notes.append(f"{data.env_steps:,} env steps logged (< {MIN_ENV_STEPS:,}): the rules about what the policy "
                     f"learned did not run yet; {ran} and the trend rules (>= {MIN_POINTS} logged points) did")
    summary = None if audit is None else {"passed": audit.get("passed"),
                                          "flagged": sorted({f["exploit"] for f in audit.get("flags") or []})}
    return Diagnosis(str(data.run_dir), data.env_id, findings, missing, data.rollout, data.env_steps,
                     "; ".join(notes) or None, summary)


def render_diagnosis(result: dict[str, Any]) -> str:
    lines = [f"reward diagnosis of {result['run']} ({result['env_id']}, {result.get('env_steps', 0):,} env steps)"]
    if result.get("note"):
        lines.append(f"  note: {result['note']}")
    if result.get("audit"):
        a = result["audit"]
        lines.append("  reward audit of the run's config: " + ("passed" if a["passed"] else
                                                              "flagged " + ", ".join(a["flagged"])))
    if result.get("rollout"):
        r = result["rollout"]
        lines.append(f"  rollout: success {r.get('success_rate')}, falls {r.get('fall_rate')}, "
                     f"final distance {r.get('mean_final_distance_m')} m over {r.get('episodes')} episodes")
    if result.get("missing_series"):
        lines.append(f"  not logged (rules using them stayed quiet): {', '.join(result['missing_series'])}")
    if not result["findings"]:
        lines.append("no findings: none of the known reward pathologies shows in the rules that ran.")
        return "\n".join(lines)
    for f in result["findings"]:
        evidence = ", ".join(f"{k}={v}" for k, v in f["evidence"].items())
        lines += ["", f"[{f['severity']}] {f['id']} (from {f.get('source', 'logs')}): {f['title']}",
                  f"  evidence: {evidence}", f"  cause:    {f['cause']}", f"  fix:      {f['fix']}",
                  f"  test:     {f['command']}"]
    return "\n".join(lines)
