"""The README stays true: it lists every setting, and CI runs the README's test command."""

from __future__ import annotations

from pathlib import Path

from gridhan.server.settings import describe

ROOT = Path(__file__).resolve().parent.parent


def test_readme_lists_every_setting():
    readme = (ROOT / "README.md").read_text()
    for name, env, _default, _help in describe():
        assert f"| `{name}` | `{env}` |" in readme, name


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()
