"""docs/adapters.md runs as written, and its models pass check_model."""

import re
from pathlib import Path

import pytest

import attractorkit as ak

DOC = Path(__file__).resolve().parents[2] / "docs" / "adapters.md"


def test_adapters_page_runs():
    pytest.importorskip("torch")
    pytest.importorskip("jax")
    blocks = re.findall(r"^```python\n(.*?)^```", DOC.read_text(), flags=re.S | re.M)
    assert len(blocks) >= 8
    ns: dict = {"__name__": "adapters_doc"}
    for i, block in enumerate(blocks):
        exec(compile(block, f"{DOC.name}[block {i}]", "exec"), ns)  # noqa: S102
    assert ns["model"].n_state == 16 and ns["flat"].shape == (10, 16)
    for name in ("rnn", "leaky", "rate", "gru"):
        ak.check_model(ns[name])
