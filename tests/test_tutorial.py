"""docs/tutorial.md runs as written and finds the flip-flop's 8 stable fixed points."""

import re
from pathlib import Path

import pytest

TUTORIAL = Path(__file__).resolve().parents[1] / "docs" / "tutorial.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_tutorial_blocks_are_found():
    blocks = python_blocks(TUTORIAL.read_text())
    assert len(blocks) >= 5
    assert any("ak.analyze(" in b for b in blocks)


def test_tutorial_runs_and_finds_eight_stable_fixed_points(monkeypatch, tmp_path):
    torch = pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "tutorial"}
    threads = torch.get_num_threads()
    try:
        for i, block in enumerate(python_blocks(TUTORIAL.read_text())):
            exec(compile(block, f"{TUTORIAL.name}[block {i}]", "exec"), namespace)  # noqa: S102
    finally:
        torch.set_num_threads(threads)
    fp = namespace["result"].fixed_points
    assert int(fp.stable.sum()) == 8
    assert len(namespace["patterns"]) == 8
    assert namespace["loss"].item() < 0.02
