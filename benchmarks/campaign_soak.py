"""Fault-injection soak: campaigns with the fast fake trainer, killed and broken at random moments.

Campaigns run one after the other in fresh workspaces (each started by two ``vbot automl`` at the
same instant: exactly one may own the workspace). While one runs, faults are injected at random
moments, each followed by a resume when the campaign process is gone:

    campaign_kill   SIGKILL of the campaign process         campaign_term  SIGTERM (graceful stop)
    trial_kill      SIGKILL of the running trial process    trainer_kill   SIGKILL of a trainer
    worker_kill     SIGKILL of a ``vbot automl worker`` (PostgreSQL storage only)
    enospc          a state write fails with ENOSPC         readonly       the state folder refuses writes for a while
    double_start    two ``vbot automl --resume`` started at the same instant

(ENOSPC and read-only are injected at ``os.replace`` by tests/harness/faults/sitecustomize.py.)
After each fault the invariants are checked: the state loads; no finished trial is lost or
retrained (a trainer that ended is never started again and its trial ends complete or pruned:
adopted, when its campaign died before recording it); the budget clock never runs backward; the
best score never gets worse; at most one campaign process runs per workspace and it is the one
the lock names. Prints one JSON object: faults by kind, violations, wall time.

    python benchmarks/campaign_soak.py [--kills 100] [--seed 0] [--postgres | --sqlite]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
HARNESS = REPO / "tests" / "harness"
KILLS = ("campaign_kill", "campaign_term", "trial_kill", "trainer_kill", "worker_kill")
OTHER = ("enospc", "readonly", "double_start")
SEARCH_SPACE = {"params": {"ppo.learning_rate": {"type": "float", "low": 1.0e-4, "high": 1.0e-2, "log": True},
                           "reward.scales.progress": {"type": "float", "low": 1.0, "high": 8.0}}}


def campaign_config(trials: int) -> dict[str, Any]:
    """A small stage campaign for the fake trainer (40 iterations of ~10 ms per trial)."""
    return {"env_id": "dummy:point_nav", "mode": "stage", "budget_hours": 5.0, "hp_trials": trials,
            "trial_steps": 40_000, "final_steps": 60_000, "num_envs": 8, "seed": 7, "search_space": SEARCH_SPACE,
            "evaluation": {"episodes": 2, "final_episodes": 4, "every_env_steps": 10_000},
            "pruner": {"type": "none"}, "sampler_startup_trials": 2, "max_retries": 3,
            "timeouts": {"heartbeat_s": 0.3, "grace_s": 2, "stall_s": 10, "stop_s": 3, "poll_s": 0.05},
            "backend": "fake_backend"}


class Violations(list):
    """Each violation once, however many checks see it again."""

    def append(self, text: str) -> None:
        if text not in self:
            super().append(text)


class Soak:
    def __init__(self, base: Path, rng: random.Random, storage: str | None, trials: int) -> None:
        self.base, self.rng, self.storage, self.trials = base, rng, storage, trials
        self.faults: Counter[str] = Counter()
        self.violations = Violations()
        self.campaigns = 0
        self.completed = 0
        self.fault_dir = base / "faults"
        self.fault_dir.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HARNESS / "faults"), str(REPO), str(HARNESS)]),
                    "VBOT_FAULT_DIR": str(self.fault_dir), "FAKE_ITER_S": "0.01", "FAKE_EVAL_S": "0.2",
                    "FAKE_PLAN": "{}"}
        self.env.pop("VBOT_WORKSPACE", None)
        self.procs: list[subprocess.Popen] = []
        self.keep = False  # a hang keeps the folder for a post-mortem

    # -- processes -------------------------------------------------------------------------------
    def vbot(self, root: Path, *args: str) -> subprocess.Popen:
        out = open(root / "soak.out", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen([sys.executable, "-m", "vbot_agent.cli", "--workspace", str(root), *args],
                                stdout=out, stderr=subprocess.STDOUT, cwd=root, env={**self.env, "FAKE_LOG": str(root / "trainer.log")})
        out.close()
        self.procs.append(proc)
        return proc

    def new_workspace(self) -> Path:
        from vbot_agent.workspace.init import init_workspace

        self.campaigns += 1
        root = self.base / f"ws{self.campaigns:03d}"
        init_workspace(root)
        config = campaign_config(self.trials)
        if self.storage:
            config["storage"] = self.storage
        (root / "soak.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        return root

    def start_pair(self, root: Path, *args: str) -> subprocess.Popen | None:
        """Two campaign processes at the same instant: exactly one may own the workspace."""
        self.faults["double_start"] += 1
        pair = [self.vbot(root, *args), self.vbot(root, *args)]
        deadline = time.time() + 60
        while time.time() < deadline and all(p.poll() is None for p in pair):
            time.sleep(0.05)
        exited = [p for p in pair if p.poll() is not None]
        if len(exited) == 2:
            codes = sorted(p.returncode for p in pair)
            if codes.count(1) != 1 and 0 not in codes:  # one refused, the other ran to its end
                self.violations.append(f"double start in {root.name}: exit codes {codes}")
            return None
        if not exited:
            self.violations.append(f"double start in {root.name}: both processes still running after 60 s")
            return pair[0]
        loser, winner = exited[0], next(p for p in pair if p.poll() is None)
        if loser.returncode != 1 or "another campaign is running" not in (root / "soak.out").read_text():
            self.violations.append(f"double start in {root.name}: the second process exited {loser.returncode} "
                                   "without saying another campaign runs")
        return winner

    # -- faults ------------------------------------------------------------------------------------
    def trial_pids(self, root: Path, trainer: bool) -> list[int]:
        """Pids of this workspace's trial processes (or trainers), found by their VBOT_TRIAL_ID."""
        pids = []
        for proc_dir in Path("/proc").glob("[0-9]*"):
            try:
                environ = (proc_dir / "environ").read_bytes()
                cmdline = (proc_dir / "cmdline").read_bytes()
            except OSError:
                continue
            if f"FAKE_LOG={root / 'trainer.log'}".encode() not in environ or b"VBOT_TRIAL_ID=" not in environ:
                continue
            wanted = b"fake_trainer.py" if trainer else b"vbot_agent.trials.trial"
            if wanted in cmdline:
                pids.append(int(proc_dir.name))
        return pids

    def inject(self, root: Path, campaign: subprocess.Popen, worker: subprocess.Popen | None) -> str:
        kinds = [k for k in (*KILLS, "enospc", "readonly") if k != "worker_kill" or worker is not None]
        kind = self.rng.choice(kinds)
        if kind == "campaign_kill":
            campaign.send_signal(signal.SIGKILL)
        elif kind == "campaign_term":
            campaign.send_signal(signal.SIGTERM)
        elif kind in ("trial_kill", "trainer_kill"):
            pids = self.trial_pids(root, trainer=kind == "trainer_kill")
            if not pids:
                return "none"
            try:
                os.kill(self.rng.choice(pids), signal.SIGKILL)
            except ProcessLookupError:
                return "none"
        elif kind == "worker_kill":
            worker.send_signal(signal.SIGKILL)
        elif kind == "enospc":
            (self.fault_dir / "enospc").touch()
        elif kind == "readonly":
            (self.fault_dir / "readonly").touch()
            time.sleep(self.rng.uniform(0.5, 2.0))
            (self.fault_dir / "readonly").unlink()
        self.faults[kind] += 1
        return kind

    # -- invariants --------------------------------------------------------------------------------
    def check(self, root: Path, seen: dict[str, Any], settled: bool) -> dict[str, Any] | None:
        """Check the invariants on the workspace's state; ``settled``: no campaign runs now."""
        from vbot_agent.errors import VbotError
        from vbot_agent.workspace.lock import is_locked
        from vbot_agent.workspace.state import load_state

        where = root.name
        state_file = root / "starter_kit_schedule/progress/automl_state.yaml"
        if not state_file.exists():
            return None
        try:
            state = load_state(state_file)
        except VbotError as exc:
            self.violations.append(f"{where}: the state does not load: {exc}")
            return None
        if state["elapsed_hours"] < seen.get("elapsed", 0.0) - 1e-9:
            self.violations.append(f"{where}: elapsed_hours ran backward {seen['elapsed']} -> {state['elapsed_hours']}")
        seen["elapsed"] = max(seen.get("elapsed", 0.0), state["elapsed_hours"])
        best = (state.get("best") or {}).get("score")
        if best is not None:
            if best < seen.get("best", float("-inf")) - 1e-12:
                self.violations.append(f"{where}: best score fell {seen['best']} -> {best}")
            seen["best"] = max(seen.get("best", float("-inf")), best)
        finished = seen.setdefault("finished", {})
        trials = {t["number"]: t for t in state["trials"]}
        for number, record in finished.items():
            now = trials.get(number)
            if now is None or (now["state"], now["score"], now["run_dir"]) != record:
                self.violations.append(f"{where}: finished trial {number} {record} became {now and now['state']}")
        for t in state["trials"]:
            if t["state"] in ("complete", "pruned"):
                finished[t["number"]] = (t["state"], t["score"], t["run_dir"])
        self.check_trainers(root, state, settled)
        mine = [p for p in self.procs if p.poll() is None and "worker" not in p.args and str(root) in p.args]
        if len(mine) > 1:
            self.violations.append(f"{where}: {len(mine)} campaign processes alive at once")
        if settled and is_locked(root / "starter_kit_schedule/progress/automl.lock"):
            self.violations.append(f"{where}: the lock is held with no campaign running")
        return state

    def check_trainers(self, root: Path, state: dict[str, Any], settled: bool) -> None:
        """A trainer that ended never starts again (no retraining); its trial is not lost."""
        ended: set[str] = set()
        log = root / "trainer.log"
        lines = log.read_text().splitlines() if log.exists() else []
        for line in lines:
            parts = line.split()
            if len(parts) < 2:
                continue
            event, tag = parts[0], parts[1]
            if event == "start" and tag in ended:
                self.violations.append(f"{root.name}: {tag} trained again after its training had finished")
            if event == "end":  # "end@<iteration>" is a trainer stopped early, which may continue
                ended.add(tag)
        if not settled:
            return
        trials = {t["number"]: t for t in state["trials"]}
        for tag in ended:
            name = tag.rsplit("/", 1)[-1]
            if not name.startswith("trial_"):
                continue
            t = trials.get(int(name.split("_")[1]))
            # a copy queued for it may have taken its finished run over
            taken_over = t is not None and any(
                c["adopted"] and c["state"] in ("complete", "pruned") and c["retry_of"] in (t["number"], t["retry_of"])
                and c["run_dir"] for c in trials.values())
            if t is not None and t["state"] == "fail" and not taken_over:
                self.violations.append(f"{root.name}: trial {t['number']} finished training but was recorded "
                                       f"failed ({t['error']})")

    # -- one campaign ------------------------------------------------------------------------------
    def run_campaign(self, kill_target: int) -> None:
        root = self.new_workspace()
        seen: dict[str, Any] = {}
        campaign = self.start_pair(root, "automl", "--config", "soak.yaml")
        worker = None
        while True:
            if campaign is None or campaign.poll() is not None:
                if campaign is not None:
                    campaign.wait()
                state = self.check(root, seen, settled=True)
                if state is None:  # killed before its first state write: nothing ran, start it again
                    if (root / "trainer.log").exists():
                        self.violations.append(f"{root.name}: trials ran but no state was written")
                        return
                    campaign = self.start_pair(root, "automl", "--config", "soak.yaml")
                    continue
                if state["status"] == "complete":
                    self.completed += 1
                    self.stop_worker(worker)
                    return
                campaign = self.start_pair(root, "automl", "--resume")
                continue
            if self.storage and (worker is None or worker.poll() is not None):
                state = self.check(root, seen, settled=False)
                if state is not None:
                    worker = self.vbot(root, "automl", "worker", "--storage", self.storage,
                                       "--study", state["automl_id"])
            time.sleep(self.rng.uniform(0.2, 2.0))
            if campaign.poll() is not None:
                continue
            if sum(self.faults[k] for k in KILLS) >= kill_target:
                try:
                    campaign.wait(timeout=300)  # let the last campaign finish
                except subprocess.TimeoutExpired:
                    self.violations.append(f"{root.name}: the campaign did not finish within 300 s of the last "
                                           f"fault (folder {root})")
                    campaign.kill()
                    campaign.wait()
                    self.keep = True
                    return
                continue
            self.inject(root, campaign, worker)
            time.sleep(0.3)
            self.check(root, seen, settled=False)

    def stop_worker(self, worker: subprocess.Popen | None) -> None:
        if worker is not None and worker.poll() is None:
            try:
                worker.wait(timeout=30)  # the campaign's status is final: the worker leaves by itself
            except subprocess.TimeoutExpired:
                self.violations.append("a worker did not leave within 30 s of its campaign's end")
                worker.kill()
                worker.wait()


def start_postgres(base: Path) -> tuple[str, Any]:
    """A private PostgreSQL cluster on loopback (trust auth), as tests/automl/test_postgres.py does."""
    import glob
    import pwd
    import socket

    def binary(name: str) -> str:
        found = shutil.which(name) or (sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [None])[-1]
        if not found:
            raise SystemExit(f"PostgreSQL's {name} is not installed (apt-get install postgresql); or use --sqlite")
        return found

    initdb, pg_ctl = binary("initdb"), binary("pg_ctl")
    base.chmod(0o755)  # the postgres user must reach its folder inside
    data, sock = base / "pg" / "data", base / "pg" / "sock"
    sock.mkdir(parents=True)
    prefix: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        user = pwd.getpwnam("postgres")
        for path in (base / "pg", sock):
            os.chown(path, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run([*prefix, initdb, "-D", str(data), "-U", "vbot", "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True)
    subprocess.run([*prefix, pg_ctl, "-D", str(data), "-l", str(base / "pg" / "server.log"), "-w", "-t", "30", "-o",
                    f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
                    "start"], check=True, capture_output=True)

    def stop() -> None:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)

    return f"postgresql://vbot@127.0.0.1:{port}/postgres", stop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=100, help="process kills to inject (campaign, trial, worker)")
    parser.add_argument("--trials", type=int, default=6, help="search trials per campaign")
    parser.add_argument("--seed", type=int, default=0)
    store = parser.add_mutually_exclusive_group()
    store.add_argument("--postgres", dest="postgres", action="store_true", default=True,
                       help="PostgreSQL storage with a worker beside each campaign (the default)")
    store.add_argument("--sqlite", dest="postgres", action="store_false", help="SQLite storage, no workers")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO))
    base = Path(tempfile.mkdtemp(prefix="vbot_soak_"))
    stop_db = None
    started = time.time()
    storage = None
    if args.postgres:
        storage, stop_db = start_postgres(base)
    soak = Soak(base, random.Random(args.seed), storage, args.trials)
    try:
        while sum(soak.faults[k] for k in KILLS) < args.kills:
            soak.run_campaign(args.kills)
    finally:
        for proc in soak.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if stop_db:
            stop_db()
        if not (args.keep or soak.keep):
            shutil.rmtree(base, ignore_errors=True)
    kills = sum(soak.faults[k] for k in KILLS)
    print(json.dumps({"benchmark": "campaign_soak", "storage": "postgresql" if storage else "sqlite",
                      "faults": dict(sorted(soak.faults.items())), "kills": kills,
                      "faults_total": sum(soak.faults.values()), "campaigns": soak.campaigns,
                      "campaigns_completed": soak.completed, "violations": soak.violations,
                      "violation_count": len(soak.violations), "wall_s": round(time.time() - started, 1),
                      "load_1min": round(os.getloadavg()[0], 2), "cpus": os.cpu_count(),
                      "folder": str(base) if args.keep or soak.keep else None}, indent=2))
    return 0 if not soak.violations else 1


if __name__ == "__main__":
    sys.exit(main())
