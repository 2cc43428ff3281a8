"""Every Python block of the documentation runs somewhere in the suite, and the study snippet
runs as a saved script (as a user would save and run it)."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _root_conftest():
    spec = importlib.util.spec_from_file_location("_root_conftest", ROOT / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", path.read_text(), flags=re.S | re.M)


def test_no_documentation_page_escapes_execution():
    """A page with Python blocks is run either by sybil (conftest.py) or by a dedicated test."""
    conftest = _root_conftest()
    sybil_patterns = ["docs/*.md", "docs/examples/*.md"]
    pages = [p for p in ROOT.glob("docs/**/*.md") if python_blocks(p)]
    assert len(pages) >= 8
    for page in pages:
        rel = page.relative_to(ROOT)
        by_sybil = any(rel.match(p) for p in sybil_patterns) and str(rel) not in conftest.DEDICATED
        dedicated = str(rel) in conftest.DEDICATED
        assert by_sybil or dedicated, f"{rel}: its Python blocks run nowhere"
    for page in conftest.DEDICATED:  # every dedicated page is named by a test that runs it
        tests = "".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py"))
        assert Path(page).name in tests, page


def test_study_snippet_runs_as_a_saved_script(tmp_path):
    """docs/study.md's Python snippet, saved to a file and run with python (worker processes
    re-import the script, so it needs its __main__ guard)."""
    pytest.importorskip("torch")
    blocks = python_blocks(ROOT / "docs" / "study.md")
    assert len(blocks) == 1
    script = tmp_path / "study_snippet.py"
    script.write_text(blocks[0])
    env = {**os.environ, "PYTHONWARNINGS": "error::RuntimeWarning"}
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "tiny-study" / "report" / "index.html").is_file()
