"""One training trial: run as a subprocess (``vbot trial``), launched and watched by its parent,
trained and evaluated through a backend seam (the real one is ``trainer_backend``), scored from
measured evaluation terms only. Used by ``automl`` and ``curriculum``; uses ``workspace`` and ``rl``."""
