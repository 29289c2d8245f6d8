"""benchmarks/nav2.py refuses bad input with one line and exit 2, before any training."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

BAD_PLAN_LEVEL = """name: x
num_envs: 8
stages:
  - {name: a, env_id: vbot_navigation_terrain, env: {levels: {start_max: 12}}, steps: 1000, promote: {success_rate: 0.1}}
"""
BAD_PLAN_TERRAIN = BAD_PLAN_LEVEL.replace("vbot_navigation_terrain, env: {levels: {start_max: 12}}",
                                          "vbot_navigation_stairs")


@pytest.mark.parametrize("args,plan,message", [
    (["--sections", "section011,section014"], None, "unknown section 'section014'; valid: section011"),
    (["--budget-h", "3"], None, "--budget-h must be in (0, 2.0], got 3.0"),
    ([], BAD_PLAN_LEVEL, "stage 1 'a': env.levels.start_max must be a level 0..9, got 12"),
    ([], BAD_PLAN_TERRAIN, "stage 1 'a': env_id: unknown env id 'vbot_navigation_stairs'"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, plan, message):
    if plan is not None:
        (tmp_path / "plan.yaml").write_text(plan)
        args = [*args, "--plan", str(tmp_path / "plan.yaml")]
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks/nav2.py"), "--workspace", str(tmp_path / "ws"), *args],
                          capture_output=True, text=True, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and message in proc.stderr and "Traceback" not in proc.stderr
