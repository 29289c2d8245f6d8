"""benchmarks/campaign_vs_single.py at a tiny budget on the point-mass env: a real campaign (real
trainer) then a single `vbot train` stopped at the campaign's wall time, both scored by `vbot play`."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_campaign_then_single_run_for_the_same_wall_time_both_scored(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "campaign_vs_single.py"), "--budget-hours", "0.02",
         "--env", "dummy:point_nav", "--automl-args", "--mode hp --hp-trials 2 --trial-steps 8192",
         "--competition-episodes", "20", "--workdir", str(tmp_path / "vs")],
        capture_output=True, text=True, timeout=600, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    campaign, single = report["campaign"], report["single"]
    assert campaign["status"] == "complete" and campaign["trials"] == {"complete": 2}
    assert Path(campaign["policy"]).is_file() and Path(single["policy"]).is_file()
    assert str(tmp_path / "vs" / "campaign") in campaign["policy"] and str(tmp_path / "vs" / "single") in single["policy"]
    # the single run trained for the campaign's wall time (plus its last iteration and exit)
    assert campaign["wall_s"] <= single["wall_s"] <= campaign["wall_s"] + 60
    assert single["env_steps"] > 8192
    for side in (campaign, single):
        assert side["evaluation"]["episodes"] == 64 and 0.0 <= side["evaluation"]["success_rate"] <= 1.0
        assert side["competition"]["competition_rounds"] == 2 and side["competition"]["competition_max_points"] == 20
        assert 0.0 <= side["competition"]["competition_points"] <= 20.0
