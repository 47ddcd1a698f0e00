"""gridhan schemas."""
