"""Curricula: a plan of stages (``plan``), each trained as one trial and promoted when its
evaluation passes; ``vbot curriculum status|advance|run``."""
