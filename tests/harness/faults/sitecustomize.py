"""Fault injection for the campaign soak (never shipped): imported by every Python process started
with this folder on PYTHONPATH and ``VBOT_FAULT_DIR`` set.

- ``$VBOT_FAULT_DIR/enospc`` present: the next rename onto a campaign state file
  (``automl_state.yaml``) fails with ENOSPC, as a full disk fails the write before the rename;
  the trigger file is consumed (one fault per trigger).
- ``$VBOT_FAULT_DIR/readonly`` present: every rename into the workspace's
  ``starter_kit_schedule/progress/`` folder fails with EROFS until the file is removed.

Both act on ``os.replace``, the last step of ``vbot_agent.fileio.atomic_write_text``, so the
product's own write path runs up to the failure and cleans up its temporary file.
"""

import errno
import os

_FAULTS = os.environ.get("VBOT_FAULT_DIR")

if _FAULTS:
    _real_replace = os.replace

    def _replace(src, dst, *args, **kwargs):
        target = os.fspath(dst)
        if target.endswith("/starter_kit_schedule/progress/automl_state.yaml"):
            trigger = os.path.join(_FAULTS, "enospc")
            try:
                os.unlink(trigger)  # the process that removes the trigger takes the fault
            except FileNotFoundError:
                pass
            else:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), target)
        if "/starter_kit_schedule/progress/" in target and os.path.exists(os.path.join(_FAULTS, "readonly")):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), target)
        return _real_replace(src, dst, *args, **kwargs)

    os.replace = _replace
