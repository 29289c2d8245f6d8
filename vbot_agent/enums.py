"""``WordEnum``: an enum whose members are the words written into YAML/JSON files.

Members compare, hash, format and serialise as their word (``Verdict.ALIVE == "alive"``, usable as
a key of a dict keyed by words, ``f"{v}"`` is ``alive``), so a typed value can replace a string in
code that reads or writes files without changing a byte of them.
"""

from __future__ import annotations

from enum import Enum


class WordEnum(str, Enum):
    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    def __hash__(self) -> int:
        return hash(self.value)
