"""Many machines: a campaign and two workers share a PostgreSQL study; a worker killed with -9
has its trial retried (heartbeat); no trial is lost and none trains twice.

Starts a real PostgreSQL server on loopback in a temp folder. Skipped only when the server
binaries are absent (`apt-get install postgresql`; .ci/run installs them).
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest
from campaign_kit import (
    read_state,
    state_or_none,
    trainer_log,
    vbot,
    vbot_background,
    wait_for,
    write_config,
)

PASSWORD = "pg-secret-4711"


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        if os.environ.get("CI"):  # .ci/run installs PostgreSQL: its absence there is a failure
            pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) are absent in CI")
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are absent: apt-get install postgresql")
    base = Path(tempfile.mkdtemp(prefix="vbot_pg_"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    prefix: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: run it as the postgres user
        user = pwd.getpwnam("postgres")
        os.chown(base, user.pw_uid, user.pw_gid)
        os.chown(sock, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    pwfile = base / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if prefix:
        os.chown(pwfile, user.pw_uid, user.pw_gid)
    # TCP connections need the password, as on a real server
    subprocess.run([*prefix, initdb, "-D", str(data), "-U", "vbot", "--auth-local=trust",
                    "--auth-host=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8"], check=True, capture_output=True)
    log = base / "server.log"
    subprocess.run([*prefix, pg_ctl, "-D", str(data), "-l", str(log), "-w", "-t", "30", "-o",
                    f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off", "start"],
                   check=True, capture_output=True)
    try:
        yield f"postgresql://vbot:{PASSWORD}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def test_campaign_and_two_workers_share_a_postgres_study(workspace, fake_env, monkeypatch, postgres_url):
    monkeypatch.setenv("FAKE_ITER_S", "0.05")  # 2 s per trial, so the three processes overlap
    write_config(workspace, mode="hp", hp_trials=6, pruner={"type": "none"}, storage=postgres_url,
                 timeouts={"heartbeat_s": 0.5, "grace_s": 3})
    campaign = vbot_background(workspace, "automl", "--config", "automl_test.yaml", "--json",
                               log=workspace / "campaign.out")
    state = wait_for(lambda: state_or_none(workspace), timeout=60, what="campaign state")
    study = state["study_name"]
    assert state["storage"].startswith("postgresql://")
    workers = [vbot_background(workspace, "automl", "worker", "--storage", postgres_url, "--study", study, "--json",
                               log=workspace / f"worker{i}.out") for i in range(2)]
    doomed = workers[0]
    host = socket.gethostname()

    def doomed_running():
        st = state_or_none(workspace)
        return st and any(t["worker"] == f"{host}:{doomed.pid}" and t["state"] == "running" for t in st["trials"])

    wait_for(doomed_running, timeout=60, what="a trial on the first worker")
    time.sleep(0.5)
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait()

    assert campaign.wait(timeout=120) == 0, (workspace / "campaign.out").read_text()
    assert workers[1].wait(timeout=60) == 0, (workspace / "worker1.out").read_text()
    state = read_state(workspace)
    assert state["status"] == "complete"
    trials = {t["number"]: t for t in state["trials"]}
    killed = [t for t in trials.values() if t["worker"] == f"{host}:{doomed.pid}" and t["state"] == "fail"]
    assert len(killed) == 1 and "stopped beating" in killed[0]["error"]
    retries = [t for t in trials.values() if t["retry_of"] == killed[0]["number"]]
    assert len(retries) == 1 and retries[0]["state"] == "complete"  # no trial lost
    assert retries[0]["params"] == killed[0]["params"]
    assert all(t["state"] in ("complete", "fail") for t in trials.values())
    # 6 slots: a running trial holds its slot, so the three processes overshoot at most by a race
    # between two of them asking at the same instant
    assert 6 <= sum(t["state"] == "complete" for t in trials.values()) <= 7
    starts = Counter(line[1] for line in trainer_log(fake_env) if line[0] == "start")
    assert all(n == 1 for n in starts.values()), starts  # none trained twice
    automl_id = state["automl_id"]
    for t in trials.values():  # every complete trial trained exactly once; the killed one at most once
        tag = f"{automl_id}/trial_{t['number']:04d}"
        assert starts[tag] == (1 if t["state"] == "complete" else starts[tag]), tag
    assert set(starts) <= {f"{automl_id}/trial_{n:04d}" for n in trials}
    ran_on = {t["worker"] for t in trials.values()}
    assert f"{host}:{workers[1].pid}" in ran_on and f"{host}:{campaign.pid}" in ran_on
    survivor = json.loads(_last_json((workspace / "worker1.out").read_text()))
    assert survivor["trials_run"]


def test_the_password_stays_out_of_every_file_and_resume_finds_it(workspace, fake_env, monkeypatch,
                                                                     postgres_url):
    monkeypatch.setenv("FAKE_ITER_S", "0.05")
    monkeypatch.delenv("PGPASSWORD", raising=False)
    write_config(workspace, mode="hp", hp_trials=3, pruner={"type": "none"}, storage=postgres_url,
                 timeouts={"heartbeat_s": 0.5, "grace_s": 3})
    campaign = vbot_background(workspace, "automl", "--config", "automl_test.yaml", "--json")
    wait_for(lambda: (st := state_or_none(workspace)) and any(t["state"] == "running" for t in st["trials"]),
             timeout=60, what="a running trial")
    os.kill(campaign.pid, signal.SIGKILL)
    campaign.wait()
    state = read_state(workspace)
    assert state["storage"] == state["settings"]["storage"] == postgres_url.replace(PASSWORD, "***")

    refused = vbot(workspace, "automl", "--resume")
    assert refused.returncode == 2, refused.stderr
    message = refused.stderr.strip().splitlines()
    assert len(message) == 1 and "PGPASSWORD" in message[0] and PASSWORD not in message[0]
    wrong = vbot(workspace, "automl", "--resume", "--storage", postgres_url.replace("127.0.0.1", "localhost"))
    assert wrong.returncode == 2 and "own storage" in wrong.stderr

    monkeypatch.setenv("PGPASSWORD", PASSWORD)  # libpq's own way; `--storage URL` works as well
    resumed = vbot(workspace, "automl", "--resume", "--json", timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert read_state(workspace)["status"] == "complete"
    leaks = [str(path) for path in workspace.rglob("*") if path.is_file() and path.name != "automl_test.yaml"
             and PASSWORD.encode() in path.read_bytes()]
    assert not leaks


def _last_json(text: str) -> str:
    start = text.rfind("\n{")
    return text[start + 1:] if start >= 0 else text[text.index("{"):]
