"""gridhan cli."""
