"""docs/index.md links every page; docs/api.md names every public object; its examples run."""

import re
from pathlib import Path

import attractorkit as ak
from attractorkit import adapters

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_index_links_every_page_and_only_existing_ones():
    index = (DOCS / "index.md").read_text()
    links = set(re.findall(r"\]\(([^)#]+\.md)", index))
    pages = {p.name for p in DOCS.glob("*.md")} - {"index.md"}
    assert pages <= links, f"pages missing from the index: {sorted(pages - links)}"
    expected = {"tutorial.md", "api.md", "adapters.md", "fixed_points.md", "dynamics.md",
                "information.md", "reference_models.md", "study.md", "architecture.md"}
    assert links == expected


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
