"""The HTML report: self-contained, readable, and rendered by a real browser without errors."""

import base64
import re
import shutil
import subprocess

import numpy as np
import pytest

import attractorkit as ak
from attractorkit import adapters

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# Appended to a COPY of the report in the browser test only: records, once the page has
# loaded, how many images there are and how many failed to decode or are not displayed.
PROBE = """<script>window.addEventListener("load", function () {
  var imgs = document.images, bad = 0;
  for (var i = 0; i < imgs.length; i++) {
    var r = imgs[i].getBoundingClientRect();
    if (!(imgs[i].complete && imgs[i].naturalWidth > 0 && r.width > 0 && r.height > 0)) bad++;
  }
  document.body.setAttribute("data-probe", "images=" + imgs.length + ";bad=" + bad);
});</script>"""


@pytest.fixture(scope="module")
def analysis():
    model = adapters.VanillaRNN(0.5 * np.eye(3), np.eye(3, 2), activation="tanh")
    grid = np.stack(np.meshgrid([-1.0, 1.0], [0.0, 0.5], indexing="ij"), axis=-1)
    rng = np.random.default_rng(0)
    activity = rng.standard_normal((200, 4))
    variables = {"sign": np.sign(activity[:, 1])}
    return ak.analyze(model, grid, axis_names=("a <b>", "c"), activity=activity,
                      variables=variables, rng=0, n_init=2, n_steps=100, n_transient=50,
                      n_fixed_point_init=4)


@pytest.fixture(scope="module")
def report_path(analysis, tmp_path_factory):
    return analysis.report(tmp_path_factory.mktemp("report") / "report", title="Test & report")


def test_report_is_one_self_contained_file(analysis, report_path):
    assert report_path.suffix == ".html" and report_path.is_file()
    text = report_path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "<script" not in text and "<link" not in text and "@import" not in text
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:|#)""", text)
    assert "http://" not in text and "https://" not in text
    images = re.findall(r'<img alt="[^"]+" src="data:image/png;base64,([^"]+)"', text)
    assert len(images) == len(analysis.figures()) == 8
    for data in images:
        assert base64.b64decode(data).startswith(b"\x89PNG\r\n\x1a\n")


def test_report_text_is_readable_and_escaped(analysis, report_path):
    text = report_path.read_text(encoding="utf-8")
    assert "<title>Test &amp; report</title>" in text
    assert "a &lt;b&gt;" in text and "a <b>" not in text
    for heading in ("Summary", "Figures", "Per condition", "Fixed points", "Census",
                    "Lyapunov spectra", "Selectivity", "Settings"):
        assert f"<h2>{heading}</h2>" in text
    assert '<h2 id="qp-bounds">Quasi-periodic share: bounds, sensitivity, audit</h2>' in text
    rows = analysis.summary_rows()
    assert len(rows) >= 8
    for key, _ in rows:
        assert f"<td>{key}</td>" in text
    # one table row per condition in the per-condition table
    assert len(re.findall(r'<tr><td class="num">\d+</td><td class="num">', text)) >= 4


def test_report_path_gets_html_suffix_and_write_is_atomic(analysis, tmp_path):
    path = analysis.report(tmp_path / "sub" / "r.txt")
    assert path.name == "r.txt.html" and path.is_file()
    assert not list(path.parent.glob(".tmp-*"))


def _render(path, tmp_path):
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
           "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", "--dump-dom",
           path.as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    probe = re.search(r'data-probe="images=(\d+);bad=(\d+)"', proc.stdout)
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return probe, console


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install "
                                             "chromium); the browser check cannot run")
def test_report_renders_in_headless_chromium(report_path, tmp_path):
    page = tmp_path / "probed.html"
    page.write_text(report_path.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"),
                    encoding="utf-8")
    probe, console = _render(page, tmp_path)
    assert probe is not None, "the page did not finish loading in chromium"
    assert int(probe.group(1)) == 8 and int(probe.group(2)) == 0
    assert console == []
    # the check itself works: a broken image and a script error are both caught
    bad = tmp_path / "bad.html"
    bad.write_text('<html><body><img src="data:image/png;base64,AAAA">'
                   "<script>undefinedFunction();</script>" + PROBE + "</body></html>")
    probe, console = _render(bad, tmp_path)
    assert probe is not None and probe.group(2) == "1"
    assert any("undefinedFunction" in line for line in console)
