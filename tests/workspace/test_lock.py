"""One campaign per workspace: the lock refuses a second, and dies with its holder."""

import os
import signal
import subprocess
import sys
import time

import pytest

from vbot_agent.workspace.lock import CampaignLocked, WorkspaceLock, is_locked

HOLD = """
import sys, time
from pathlib import Path
from vbot_agent.workspace.lock import WorkspaceLock
WorkspaceLock(Path(sys.argv[1]), "automl_holder").acquire()
print("held", flush=True)
time.sleep(60)
"""


def test_second_holder_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "automl.lock"
    with WorkspaceLock(path, "automl_first"):
        assert is_locked(path)
        with pytest.raises(CampaignLocked) as err:
            WorkspaceLock(path, "automl_second").acquire()
        assert "automl_first" in str(err.value) and str(os.getpid()) in str(err.value)
        assert "vbot status" in str(err.value)
    assert not is_locked(path)


def test_lock_is_released_when_its_process_is_killed(tmp_path, fake_env):
    path = tmp_path / "automl.lock"
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    with pytest.raises(CampaignLocked, match="automl_holder"):
        WorkspaceLock(path, "automl_next").acquire()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(0.05)
    WorkspaceLock(path, "automl_next").acquire().release()
