"""The attractorkit command line: analyze, report, lazily loaded train/reproduce, exit codes."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

import attractorkit as ak
from attractorkit import cli

FAST = ["--n-init", "2", "--n-steps", "100", "--n-transient", "50", "--n-fixed-point-init",
        "4", "--no-progress"]


def save_weights(path, weights, spec):
    """A model file as a user writes one: an .npz of weights and the JSON spec beside it."""
    np.savez(path, **weights)
    path.with_suffix(".json").write_text(json.dumps(spec))
    return path


def run(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def npz_model(tmp_path):
    rng = np.random.default_rng(0)
    W = 0.3 * rng.standard_normal((5, 5)) / np.sqrt(5)
    return save_weights(tmp_path / "rnn.npz", {"W": W, "U": rng.standard_normal((5, 2)),
                                               "b": np.zeros(5)},
                        {"cell": "vanilla", "activation": "tanh"})


def test_analyze_then_report(npz_model, tmp_path, capsys):
    out = tmp_path / "out"
    code, stdout, err = run(["analyze", str(npz_model), "--inputs=-1:1:3,0:0.5:2", "--out",
                             str(out), "--axis-names", "a,b", *FAST], capsys)
    assert code == 0, err
    assert "Analysis of VanillaRNN" in stdout and f"wrote {out / 'analysis.npz'}" in stdout
    result = ak.Analysis.load(out / "analysis.npz")
    assert result.grid_shape == (3, 2) and result.axis_names == ("a", "b")
    np.testing.assert_allclose(result.axes[0], [-1, 0, 1])
    assert result.settings["sizes"]["n_init"] == 2
    assert (out / "summary.txt").read_text().startswith("Analysis of")
    first = (out / "report.html").read_text()
    (out / "report.html").unlink()
    code, stdout, err = run(["report", str(out), "--title", "again"], capsys)
    assert code == 0, err and (out / "report.html").is_file()
    assert "<title>again</title>" in (out / "report.html").read_text()
    assert first.count("data:image/png") == (out / "report.html").read_text().count(
        "data:image/png")


def test_torch_state_dict_and_inputs_file(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    gru = torch.nn.GRU(3, 4)
    torch.save(gru.state_dict(), tmp_path / "gru.pt")
    np.save(tmp_path / "inputs.npy", np.zeros((2, 3)))
    code, stdout, err = run(["analyze", str(tmp_path / "gru.pt"), "--inputs",
                             str(tmp_path / "inputs.npy"), "--out", str(tmp_path / "o"),
                             "--no-census", "--no-lyapunov", "--cycles", "none", "--no-report",
                             "--quiet", *FAST], capsys)
    assert code == 0, err
    r = ak.Analysis.load(tmp_path / "o" / "analysis.npz")
    assert r.census is None and r.cycles is None and r.fixed_points is not None
    assert not (tmp_path / "o" / "report.html").exists() and "Analysis of" not in stdout


@pytest.mark.parametrize("make,args,match", [
    (None, ["analyze", "{d}/missing.pt", "--inputs=0,0"], "no such model file"),
    ("onnx", ["analyze", "{d}/m.onnx", "--inputs=0,0"], "unknown model format '.onnx'"),
    ("npz-nospec", ["analyze", "{d}/w.npz", "--inputs=0,0"], "needs a JSON spec"),
    ("npz-mismatch", ["analyze", "{d}/w.npz", "--inputs=0,0", "--spec", "{d}/spec.json"],
     "spec says cell 'lstm'"),
    ("npz", ["analyze", "{d}/rnn.npz", "--inputs=0,0,0"], "expected 2 comma-separated"),
    ("npz", ["analyze", "{d}/rnn.npz", "--inputs=0,a:b"], "neither a number nor a range"),
    ("npz", ["analyze", "{d}/rnn.npz", "--inputs", "{d}/none.npy"], "no such file"),
    ("npz", ["analyze", "{d}/rnn.npz", "--inputs=0,0", "--activity", "{d}/a.npy"],
     "--activity and --variables go together"),
    ("npz", ["analyze", "{d}/rnn.npz", "--inputs=0,0", "--grid-shape", "x"],
     "--grid-shape: expected comma-separated ints"),
    ("pickle", ["analyze", "{d}/evil.pt", "--inputs=0,0"], "refused"),
    (None, ["report", "{d}/nothing"], "no such result directory"),
    ("corrupt", ["report", "{d}"], "truncated or corrupted"),
])
def test_bad_files_and_arguments_exit_2_with_one_line(tmp_path, capsys, make, args, match):
    d = tmp_path
    if make == "onnx":
        (d / "m.onnx").write_bytes(b"\x08\x01")
    elif make == "npz-nospec":
        np.savez(d / "w.npz", W=np.eye(2))
    elif make == "npz-mismatch":
        np.savez(d / "w.npz", weight_hh_l0=np.zeros((2, 2)), weight_ih_l0=np.zeros((2, 2)))
        (d / "spec.json").write_text(json.dumps({"cell": "lstm"}))
    elif make == "npz":
        save_weights(d / "rnn.npz", {"W": np.eye(3) * 0.1, "U": np.ones((3, 2))},
                     {"cell": "vanilla"})
    elif make == "pickle":
        import pickle

        (d / "evil.pt").write_bytes(pickle.dumps({"weight_hh_l0": object()}))
    elif make == "corrupt":
        (d / "analysis.npz").write_bytes(b"PK\x03\x04 this is not a zip")
    argv = [a.format(d=d) for a in args]
    if argv[0] == "analyze":
        argv += ["--out", str(d / "out"), "--no-progress"]
    code, _, err = run(argv, capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("attractorkit: error: "), err
    assert match in lines[0]
    assert not (d / "out" / "analysis.npz").exists()


def test_usage_errors_and_help(capsys):
    assert run([], capsys)[0] == 2
    code, _, err = run(["analyze"], capsys)
    assert code == 2 and "required" in err
    assert run(["analyze", "m.pt", "--inputs=0", "--out", "o", "--n-init", "0"], capsys)[0] == 2
    code, out, _ = run(["--help"], capsys)
    assert code == 0 and "analyze" in out and "report" in out and "exit codes" in out
    code, out, _ = run(["analyze", "--help"], capsys)
    assert code == 0
    parser = cli.build_parser(["analyze"])
    analyze = parser._subparsers._group_actions[0].choices["analyze"]
    for action in analyze._actions:
        assert action.help, f"option {action.option_strings or action.dest} has no help"
        for flag in action.option_strings:
            assert flag in out


def test_analysis_failure_exits_1(npz_model, tmp_path, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise ak.AttractorKitError("the solver exploded")

    monkeypatch.setattr(ak, "analyze", broken)
    code, _, err = run(["analyze", str(npz_model), "--inputs=0,0", "--out",
                        str(tmp_path / "o"), "--no-progress"], capsys)
    assert code == 1 and err.strip() == ("attractorkit: error: the analysis failed: the solver "
                                         "exploded")


def test_reference_commands_load_lazily_or_explain(capsys, monkeypatch):
    code, out, _ = run(["train", "--help"], capsys)
    assert code == 0 and "--paradigm" in out
    monkeypatch.setitem(sys.modules, "attractorkit.reference_models.cli", None)  # unloadable
    code, _, err = run(["train", "--paradigm", "rl"], capsys)
    assert code == 1
    assert "the 'train' command needs attractorkit.reference_models.cli" in err
    assert len(err.strip().splitlines()) == 1
    assert run(["--help"], capsys)[0] == 0      # the rest of the CLI still works


def test_console_script_entry_point(tmp_path):
    exe = shutil.which("attractorkit") or str(
        __import__("pathlib").Path(sys.executable).with_name("attractorkit"))
    proc = subprocess.run([exe, "report", str(tmp_path / "nothing")], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (f"attractorkit: error: {tmp_path / 'nothing'}: no such "
                                   "result directory or file")


def test_parse_inputs_grid_order():
    grid, shape, names = cli.parse_inputs("0:1:3,5,-1:1:2", 3)
    assert shape == (3, 2) and names == ("input 0", "input 2")
    assert grid.shape == (6, 3) and np.all(grid[:, 1] == 5)
    np.testing.assert_allclose(grid[:2], [[0, 5, -1], [0, 5, 1]])
    line, shape, names = cli.parse_inputs("0,-1:1:3", 2)
    assert shape == (3,) and names == ("input 1",)
    single, shape, _ = cli.parse_inputs("0.5,1", 2)
    assert shape is None and single.tolist() == [0.5, 1.0]


# -- issue 19: hostile input and hostile files ------------------------------------------------
def _no_analysis(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("the analysis ran although an input was bad")

    monkeypatch.setattr(ak, "analyze", forbidden)


@pytest.mark.parametrize("out", ["file", "file/sub", "/proc/attractorkit-out", "/proc"])
def test_unusable_out_is_exit_2_before_any_work(npz_model, tmp_path, capsys, monkeypatch, out):
    """Regression: an --out that could not be created was found only after the analysis."""
    (tmp_path / "file").write_text("x")
    target = out if out.startswith("/") else str(tmp_path / out)
    _no_analysis(monkeypatch)
    code, _, err = run(["analyze", str(npz_model), "--inputs=0,0", "--out", target, *FAST],
                       capsys)
    assert code == 2 and err.startswith("attractorkit: error: --out: ")
    assert len(err.strip().splitlines()) == 1


def test_outputs_replace_links_and_never_write_their_targets(npz_model, tmp_path, capsys):
    """Regression: DIR/summary.txt (analysis.npz, report.html) as a link to a file outside DIR
    made `analyze --out DIR` overwrite that file."""
    import os

    out = tmp_path / "out"
    out.mkdir()
    victims = {}
    for name in ("summary.txt", "analysis.npz", "report.html"):
        victims[name] = tmp_path / f"victim-{name}"
        victims[name].write_text("precious")
        os.symlink(victims[name], out / name)
    code, _, err = run(["analyze", str(npz_model), "--inputs=0,0", "--out", str(out),
                        "--no-census", "--no-lyapunov", "--quiet", *FAST], capsys)
    assert code == 0, err
    for name, victim in victims.items():
        assert victim.read_text() == "precious" and not (out / name).is_symlink()
    assert ak.Analysis.load(out / "analysis.npz").fixed_points is not None


@pytest.mark.parametrize("extra, match", [
    (["--inputs=0:1:100000000000,0:1:100000"], "--inputs"),
    (["--inputs=0,nan"], "inputs"),
    (["--inputs=0,0", "--seed", "-1"], "rng: expected a seed >= 0"),
    (["--inputs=0,0", "--grid-shape", "0"], "grid_shape"),
    (["--inputs=0,0", "--cycles", "1"], "cycles"),
    (["--inputs=0:1:2,0", "--axis-names", "a,b,c"], "axis_names"),
])
def test_bad_values_are_exit_2(npz_model, tmp_path, capsys, extra, match):
    code, _, err = run(["analyze", str(npz_model), "--out", str(tmp_path / "o"), *extra, *FAST],
                       capsys)
    assert code == 2, err
    assert err.startswith("attractorkit: error: ") and match in err
    assert not (tmp_path / "o" / "analysis.npz").exists()


def test_a_failure_while_writing_is_exit_1(npz_model, tmp_path, capsys, monkeypatch):
    def disk_full(self, path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ak.Analysis, "save", disk_full)
    code, _, err = run(["analyze", str(npz_model), "--inputs=0,0", "--out", str(tmp_path / "o"),
                        "--no-census", "--no-lyapunov", *FAST], capsys)
    assert code == 1 and "writing the results" in err and "No space left" in err


def test_report_out_is_checked_before_loading(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    (tmp_path / "analysis.npz").write_bytes(b"not even a zip")
    code, _, err = run(["report", str(tmp_path), "--out", str(tmp_path / "f" / "r.html")],
                       capsys)
    assert code == 2 and "--out: " in err and "corrupted" not in err


def test_train_with_a_bad_value_is_exit_2(tmp_path, capsys):
    """Regression: `train --delta -1` exited 1 although the help promises 2 for bad input."""
    pytest.importorskip("torch")
    code, _, err = run(["train", "--paradigm", "sl", "--delta", "-1", "--max-updates", "1",
                        "--no-progress"], capsys)
    assert code == 2 and "delta: expected a finite number > 0" in err
    (tmp_path / "file").write_text("x")
    code, _, err = run(["train", "--paradigm", "sl", "--out", str(tmp_path / "file" / "o"),
                        "--max-updates", "1", "--no-progress"], capsys)
    assert code == 2 and err.startswith("attractorkit: error: --out: ")


def _bomb(path, n_mib, name="v"):
    """An .npz whose member inflates to n_mib MiB of zeros (streamed, never held whole)."""
    import io
    import zipfile

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False,
                                               "shape": (n_mib * 2**17,)})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open(f"{name}.npy", "w", force_zip64=True) as fh:
            fh.write(buf.getvalue())
            for _ in range(n_mib):
                fh.write(bytes(2**20))
    return path


def test_recordings_are_read_with_bounds(npz_model, tmp_path, capsys, monkeypatch):
    """A variables archive that inflates beyond the budget, and an .npy whose header lies about
    its size, are exit 2 before anything is inflated or allocated."""
    monkeypatch.setenv("ATTRACTORKIT_MEMORY_BUDGET", "16MiB")
    np.save(tmp_path / "act.npy", np.zeros((10, 5)))
    _bomb(tmp_path / "vars.npz", 32)
    code, _, err = run(["analyze", str(npz_model), "--inputs=0,0", "--out", str(tmp_path / "o"),
                        "--activity", str(tmp_path / "act.npy"), "--variables",
                        str(tmp_path / "vars.npz"), *FAST], capsys)
    assert code == 2 and "--variables: " in err and "ceiling of 16 MiB" in err
    raw = (tmp_path / "act.npy").read_bytes()
    (tmp_path / "liar.npy").write_bytes(raw.replace(b"(10, 5)", b"(99, 5)"))
    code, _, err = run(["analyze", str(npz_model), "--inputs", str(tmp_path / "liar.npy"),
                        "--out", str(tmp_path / "o"), *FAST], capsys)
    assert code == 2 and "--inputs: " in err and "declares shape (99, 5)" in err
