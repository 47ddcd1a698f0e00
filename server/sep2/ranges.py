"""HTTP byte ranges (RFC 9110 clause 14) for File content, so an interrupted download resumes where it
stopped: one range per request, the forms ``a-b``, ``a-`` and ``-n``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ByteRange:
    """Bytes ``first`` to ``last`` inclusive of a representation of ``size`` bytes."""

    first: int
    last: int
    size: int

    @property
    def length(self) -> int:
        return self.last - self.first + 1

    @property
    def content_range(self) -> str:
        return f"bytes {self.first}-{self.last}/{self.size}"


class Unsatisfiable(Exception):
    """The range starts beyond the representation (416 Range Not Satisfiable)."""


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one range ``header`` asks for, or None to send the whole representation (no header, another
    unit, several ranges, or a header that does not parse: RFC 9110 lets a server ignore those).
    :class:`Unsatisfiable` when the range selects no byte of it."""
    if header is None:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first_text, dash, last_text = spec.strip().partition("-")
    first_text, last_text = first_text.strip(), last_text.strip()
    if not dash or not (first_text or last_text):
        return None
    if not all(t.isdigit() and t.isascii() for t in (first_text, last_text) if t):
        return None
    if not first_text:  # suffix: the last n bytes
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            raise Unsatisfiable
        return ByteRange(max(size - suffix, 0), size - 1, size)
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None  # not a valid range: ignored
    if first >= size:
        raise Unsatisfiable
    last = int(last_text) if last_text else size - 1
    return ByteRange(first, min(last, size - 1), size)
