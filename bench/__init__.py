"""Benchmarks of gridhan, run from a source checkout (not installed with the package); see README.md."""
