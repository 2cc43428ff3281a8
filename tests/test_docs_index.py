"""docs/index.md links every page; docs/api.md names every public object; its examples run."""

import re
from pathlib import Path

import attractorkit as ak
from attractorkit import adapters

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_index_links_every_page_and_only_existing_ones():
    index = (DOCS / "index.md").read_text()
    links = set(re.findall(r"\]\(([^)#]+\.md)", index))
    pages = {str(p.relative_to(DOCS)) for p in DOCS.glob("**/*.md")} - {"index.md"}
    assert pages <= links, f"pages missing from the index: {sorted(pages - links)}"
    expected = {"tutorial.md", "api.md", "adapters.md", "fixed_points.md", "dynamics.md",
                "information.md", "reference_models.md", "study.md", "architecture.md"}
    assert expected <= links
    assert all(link.startswith(("examples/", "study/results/")) for link in links - expected)


def test_api_page_covers_every_public_name():
    text = (DOCS / "api.md").read_text()
    core = [n for n in ak.__all__ if not n.startswith("__")]
    missing = [n for n in core if f"ak.{n}" not in text]
    missing += [n for n in adapters.__all__ if f"adapters.{n}" not in text]
    assert not missing, f"docs/api.md does not mention {missing}"


def test_api_page_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"^```python\n(.*?)^```", (DOCS / "api.md").read_text(),
                        flags=re.S | re.M)
    assert len(blocks) == 2
    namespace: dict = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"api.md[block {i}]", "exec"), namespace)  # noqa: S102
    result = namespace["result"]
    assert result.grid_shape == (4, 3) and result.census.share.shape[0] == 12


def _documented_calls(text):
    """(object path, [(name, default text or None)]) of every `ak.f(...)` / `adapters.F(...)`
    signature the page shows (examples with literal arguments such as `x` are skipped)."""
    for owner, name, args in re.findall(r"`(ak|adapters)\.(\w+)\(([^`]*)\)`", text):
        parts = [a.strip() for a in args.split(",") if a.strip() not in ("", "*", "...")]
        yield owner, name, [tuple(p.split("=", 1)) if "=" in p else (p, None) for p in parts]


def test_api_page_names_and_defaults_match_the_code():
    """Every parameter docs/api.md shows exists, and every default it states is the code's."""
    import ast
    import inspect

    text = (DOCS / "api.md").read_text()
    wrong = []
    for owner, name, params in _documented_calls(text):
        obj = getattr(ak if owner == "ak" else adapters, name)
        sig = inspect.signature(obj)
        takes_kw = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
        for pname, default in params:
            pname = pname.lstrip("*")
            if pname in ("kw", "shortcuts") or (pname not in sig.parameters and takes_kw):
                continue
            if pname not in sig.parameters:
                wrong.append(f"{owner}.{name}: no parameter {pname!r}")
            elif default not in (None, "") and sig.parameters[pname].default is not \
                    inspect.Parameter.empty:
                if sig.parameters[pname].default != ast.literal_eval(default):
                    wrong.append(f"{owner}.{name}({pname}={default}): the code says "
                                 f"{sig.parameters[pname].default!r}")
    assert not wrong, wrong


def test_api_page_states_analysis_defaults_of_the_code():
    text = (DOCS / "api.md").read_text()
    section = text[text.index("## One call: analyze"):]
    defaults = ak.AnalysisOptions()
    stated = re.findall(r"`(n_\w+)` \([^)]*?(\d+)\)", section)
    assert len(stated) >= 5
    for name, value in stated:
        assert getattr(defaults, name) == int(value), (name, value)
    for name, value in re.findall(r"\| `(\w+)=(\w+)` \|", section):
        assert repr(getattr(defaults, name)) == value, (name, value)
