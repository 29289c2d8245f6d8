"""The AutoML campaign: the optuna loop over trials (new / resume / worker, budget clock), its
search space and settings, and the read-only views of it (``vbot status``, ``vbot analyze``)."""
