"""Validation against an official schema loaded from a configured path.

The official schemas (IEEE 2030.5 ``sep.xsd``, CSIP-AUS ``csipaus-core.xsd``, the OpenADR 2.0b set) are
not shipped with gridhan: the user points at their own copy, optionally pinned by its SHA-256. Tests use
it as their oracle; a server may also validate every document it reads and writes (lxml takes tens of
microseconds per document).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from lxml import etree


class SchemaDigestMismatch(ValueError):
    """The schema file is not the one the configuration pinned."""


class SchemaValidator:
    def __init__(self, path: Path, sha256: str = "") -> None:
        data = path.read_bytes()
        if sha256 and hashlib.sha256(data).hexdigest().lower() != sha256.lower():
            raise SchemaDigestMismatch(f"{path} does not have the configured SHA-256 {sha256}")
        self.path = path
        self._schema = etree.XMLSchema(etree.parse(str(path)))

    def errors(self, document: bytes | etree._Element) -> list[str]:
        """The schema violations of ``document`` (empty when it is valid)."""
        root = etree.fromstring(document) if isinstance(document, bytes) else document
        if self._schema.validate(root):
            return []
        return [f"line {e.line}: {e.message}" for e in self._schema.error_log]  # type: ignore[union-attr]

    def is_valid(self, document: bytes | etree._Element) -> bool:
        return not self.errors(document)
