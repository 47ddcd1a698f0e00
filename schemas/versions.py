"""Comparing software versions the way a File list orders them (IEEE 2030.5-2018 clause 9.8.2.2, Table 36:
mfVer descending) and a loading device picks a newer image: part by part, digit runs as numbers and other
runs as text, so 1.10 is newer than 1.9. 2030.5 leaves the syntax of mfVer to the manufacturer; this is
gridhan's reading of it."""

from __future__ import annotations

import re

_PARTS = re.compile(r"[0-9]+|[^0-9.\-_+ ]+")


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """A version string as comparable parts: digit runs as numbers, other runs as text."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in _PARTS.findall(version))


def is_newer(candidate: str, than: str) -> bool:
    """Whether version ``candidate`` is newer than ``than``."""
    return version_key(candidate) > version_key(than)
