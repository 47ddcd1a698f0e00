"""gridhan client."""
