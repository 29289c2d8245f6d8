"""The fault-injection soak at CI size: a few campaigns with the fake trainer, killed (campaign,
trial, trainer, worker), a state write failing with ENOSPC, the state folder read-only for a
while, two campaigns started at the same instant; every invariant holds after every fault.

The full soak (100+ kills) is ``python benchmarks/campaign_soak.py``; this runs the same script.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _has_postgres() -> bool:
    from test_postgres import _pg_bin

    return bool(_pg_bin("initdb") and _pg_bin("pg_ctl"))


@pytest.mark.slow
def test_campaigns_survive_random_kills_full_disks_and_double_starts():
    if not _has_postgres() and os.environ.get("CI"):  # .ci/run installs PostgreSQL
        pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) are absent in CI")
    storage = "--postgres" if _has_postgres() else "--sqlite"
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "campaign_soak.py"), "--kills", "8",
                           "--trials", "4", "--seed", "3", storage],
                          capture_output=True, text=True, timeout=400, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.stdout.strip(), proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    assert report["violations"] == [], report
    assert proc.returncode == 0
    assert report["kills"] >= 8 and report["campaigns_completed"] >= 1
    faults = report["faults"]
    assert faults["double_start"] >= 2  # every start and resume is a pair
    assert sum(faults.get(k, 0) for k in ("enospc", "readonly")) >= 1, faults
