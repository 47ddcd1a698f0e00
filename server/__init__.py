"""gridhan server."""
