"""The README's promises: its example runs, its commands are the ones CI runs."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _block_after(marker: str) -> str:
    m = re.search(re.escape(marker) + r"\s*```\w*\n(.*?)```", README, flags=re.S)
    assert m, f"README.md has no fenced block after {marker}"
    return m.group(1).strip()


def test_two_setup_commands_install_and_run():
    main, test = _block_after("<!-- ci:main -->"), _block_after("<!-- ci:test -->")
    assert main.startswith("pip install ") and "attractorkit reproduce" in main
    assert test.startswith("pip install ") and test.endswith("pytest")
    assert "lint-imports" in test, "CI checks the layer contract of pyproject.toml"
    for cmd in (main, test):
        assert "torch==2.13.0" in cmd, "an unpinned torch may pull a multi-GB CUDA build here"
    assert "ci:test" in (ROOT / ".ci" / "run").read_text()


def test_python_example_runs(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    code = re.search(r"## Ten lines\s*```python\n(.*?)```", README, flags=re.S).group(1)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    result = namespace["result"]
    assert result.fixed_points is not None and result.fixed_points.points.shape[1] == 64
    assert result.census is not None
    assert (tmp_path / "analysis.html").stat().st_size > 10_000
