"""optuna plumbing: storage with heartbeats, the seeded TPE study, trial bookkeeping.

Every process that runs trials (the campaign, ``vbot automl worker``) uses ``study.optimize`` one
trial at a time, so optuna's heartbeat thread marks its running trial alive. A trial whose process
died stops beating; after ``grace_s`` any live process fails it (``fail_stale_trials``) and
``RetryHeartbeatStaleTrialCallback`` queues a copy with the same parameters. Trials of a campaign
that was killed are failed and queued the same way at ``--resume`` without waiting for the grace
period (the workspace lock proves their process is gone).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

from vbot_agent.automl.settings import AutomlSettings, redact
from vbot_agent.errors import UsageError, VbotError
from vbot_agent.workspace.state import TrialState

# optuna TrialState name -> the state file's word (plain str: trial records and worker counts are returned as results)
STATE_WORDS = {s.name: s.value for s in TrialState}


def quiet_optuna() -> None:
    """optuna logs a traceback per failed trial and warns about experimental APIs; we report ourselves."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", category=FutureWarning, module="optuna")


def open_storage(url: str, settings: AutomlSettings):
    """RDBStorage at ``url`` with heartbeats and retries of stale trials."""
    import optuna
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

    quiet_optuna()
    engine_kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        engine_kwargs = {"connect_args": {"timeout": 60}}
    else:
        engine_kwargs = {"pool_pre_ping": True}
    t = settings.timeouts
    try:
        return RDBStorage(
            sqlalchemy_url(url), engine_kwargs=engine_kwargs,
            heartbeat_interval=max(1, round(t.heartbeat_s)), grace_period=max(2, round(t.grace_s)),
            heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=settings.max_retries),
        )
    except ImportError as exc:  # optuna re-raises a missing DB driver as a plain ImportError
        raise UsageError(f"storage {redact(url)} needs its database driver ({exc}); for PostgreSQL: "
                         "pip install psycopg2-binary (or `pip install vbot-agent[postgres]`)") from None
    except (optuna.exceptions.StorageInternalError, _sqlalchemy_error()) as exc:  # connection, auth, schema
        detail = str(exc).splitlines()[0] if str(exc) else ""
        if "password" in detail.lower():  # files never hold the password: say where it comes from
            raise UsageError(f"cannot open the optuna storage {redact(url)}: {detail}. Its password is never "
                             "written to the workspace: give it with `--storage postgresql://USER:PASSWORD@...` "
                             "or in PGPASSWORD or ~/.pgpass") from None
        raise VbotError(f"cannot open the optuna storage {redact(url)}: {type(exc).__name__}: {detail}") from None


def _sqlalchemy_error() -> type[Exception]:
    from sqlalchemy.exc import SQLAlchemyError

    return SQLAlchemyError


def sqlalchemy_url(url: str) -> str:
    """``postgresql://`` (and ``postgres://``) use psycopg2, the driver of the ``postgres`` extra.

    SQLAlchemy 2.1 would pick psycopg 3 for a bare ``postgresql://``; an explicit
    ``postgresql+driver://`` is kept as given.
    """
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg2://" + url[len(scheme):]
    return url


def create_study(storage, name: str, settings: AutomlSettings, *, seed_offset: int):
    """Create or load study ``name``: TPE seeded with ``settings.seed + seed_offset``, maximising.

    ``seed_offset`` (the number of trials already in the study, plus a worker index) keeps a resumed
    or extra process from replaying the random start-up samples of the first one.
    """
    import optuna

    sampler = optuna.samplers.TPESampler(seed=settings.seed + seed_offset,
                                         n_startup_trials=settings.sampler_startup_trials)
    return optuna.create_study(storage=storage, study_name=name, sampler=sampler, pruner=make_pruner(settings),
                               direction="maximize", load_if_exists=True)


def load_study(storage, name: str, settings: AutomlSettings | None = None, *, seed_offset: int = 0):
    import optuna

    try:
        summaries = optuna.get_all_study_names(storage)
    except Exception as exc:
        raise VbotError(f"cannot list studies: {type(exc).__name__}: {exc}") from None
    if name not in summaries:
        raise UsageError(f"no study {name!r} in this storage (studies: {', '.join(summaries) or 'none'}); "
                         "start the campaign first with `vbot automl --storage URL`")
    if settings is None:
        return optuna.load_study(study_name=name, storage=storage)
    return create_study(storage, name, settings, seed_offset=seed_offset)


def make_pruner(settings: AutomlSettings):
    import optuna

    p = settings.pruner
    if p.type == "none":
        return optuna.pruners.NopPruner()
    if p.type == "successive_halving":
        every = settings.evaluation.every_env_steps
        if not every:  # no intermediate evaluations: nothing to halve on
            return optuna.pruners.NopPruner()
        # reported steps count evaluations (step k at k * every_env_steps); the first rung is where
        # trials can first differ
        rung = max(1, -(-(settings.min_trial_steps) // every))
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=rung, reduction_factor=p.reduction_factor)
    return optuna.pruners.MedianPruner(n_startup_trials=p.n_startup_trials, n_warmup_steps=p.n_warmup_steps)


def retried_numbers(trials: Iterable[Any]) -> set[int]:
    """Numbers of failed trials that have a queued or run copy (they no longer count as done)."""
    out: set[int] = set()
    for t in trials:
        out.update(t.system_attrs.get("retry_history", []))
    return out


def count_done(trials: list[Any]) -> int:
    """Trials that used up a slot of ``hp_trials``: complete, pruned, or failed without a retry."""
    retried = retried_numbers(trials)
    return sum(1 for t in trials if t.state.name in ("COMPLETE", "PRUNED")
               or (t.state.name == "FAIL" and t.number not in retried))


def fail_and_retry(study, trial, error: str, max_retries: int) -> bool:
    """Fail ``trial`` (a FrozenTrial) with ``error`` and queue a copy unless retries are used up.

    Returns True when a copy was queued.
    """
    import optuna
    from optuna.storages import RetryHeartbeatStaleTrialCallback

    storage = study._storage  # optuna exposes no public setter for another process's trial
    if trial.state.name == "RUNNING":
        try:
            storage.set_trial_user_attr(trial._trial_id, "error", error)
            storage.set_trial_user_attr(trial._trial_id, "interrupted", True)
            storage.set_trial_state_values(trial._trial_id, state=optuna.trial.TrialState.FAIL)
        except optuna.exceptions.UpdateFinishedTrialError:
            return False  # another process finished or failed it meanwhile
        trial = storage.get_trial(trial._trial_id)
    before = len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,)))
    RetryHeartbeatStaleTrialCallback(max_retry=max_retries)(study, trial)
    return len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,))) > before


def state_word(trial) -> str:
    return STATE_WORDS[trial.state.name]
