"""Text output of action results: ``key: value`` lines, floats rounded for people (JSON keeps every digit).

A base module, so the CLI and the renderers that live with their domain (``rl.commands``) share it.
"""

from __future__ import annotations

import math
from typing import Any

FLOAT_DIGITS = 6  # significant digits of floats in text output (JSON keeps every digit)


def render_default(result: Any) -> str:
    """key: value lines for a flat dict; YAML for nested results. Floats keep FLOAT_DIGITS digits."""
    result = rounded(result)
    if isinstance(result, dict) and all(not isinstance(v, (dict, list)) for v in result.values()):
        width = max((len(str(k)) for k in result), default=0) + 1
        return "\n".join(f"{k + ':':<{width + 1}}{v}" for k, v in result.items())
    import yaml

    return yaml.safe_dump(result, sort_keys=False, allow_unicode=True).rstrip()


def rounded(value: Any, digits: int = FLOAT_DIGITS) -> Any:
    """``value`` with every finite float rounded to ``digits`` significant digits (0.30000000000000004
    -> 0.3, 123456.789 -> 123457.0), through dicts, lists and tuples; a typed word (a ``WordEnum``
    member) becomes its plain word; anything else unchanged."""
    if isinstance(value, float) and math.isfinite(value):
        return float(f"{value:.{digits}g}")
    if isinstance(value, str) and type(value) is not str:
        return str(value)
    if isinstance(value, dict):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(v, digits) for v in value]
    return value
