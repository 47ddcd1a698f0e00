"""gridhan conformance."""
