"""Issue 20 on the command line: ``attractorkit warmup``; seed states for the fixed-point search
(``--fixed-point-states``) and start states for the census (``--initial-states``) as two
separate .npy options; errors that name the flag, the file and what it holds; a checkpoint key
that is not there lists the keys that are."""

import json

import numpy as np
import pytest

import attractorkit as ak
from attractorkit import cli

FAST = ["--n-steps", "100", "--n-transient", "50", "--n-fixed-point-init", "8", "--no-progress",
        "--no-lyapunov", "--no-state-space", "--cycles", "none", "--no-report", "--quiet"]


def run(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def far_point_model(tmp_path):
    """The ReLU map h' = relu(2 h - 10) (one unit; its one input does nothing): the stable
    point 0 attracts every state below 5, the unstable point 10 is met only from seeds above
    5, never by the search's own trajectories (they start near 0)."""
    path = tmp_path / "relu.npz"
    np.savez(path, W=[[2.0]], U=[[0.0]], b=[-10.0])
    (tmp_path / "relu.json").write_text(json.dumps({"cell": "vanilla", "activation": "relu"}))
    return path


def _forbid_analysis(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("the analysis ran although an input was bad")

    monkeypatch.setattr(ak, "analyze", forbidden)


def test_both_state_files_reach_analyze_under_their_own_names(far_point_model, tmp_path,
                                                              capsys, monkeypatch):
    seeds = np.array([[9.5], [10.5], [0.5]])
    starts = np.array([[0.5], [1.0], [4.0], [-2.0]])
    np.save(tmp_path / "seeds.npy", seeds)
    np.save(tmp_path / "starts.npy", starts.astype(np.float32))   # any numeric dtype
    seen = {}

    def spy(model, inputs, **kwargs):
        seen.update(kwargs)
        raise ak.AttractorKitError("stopped by the test")

    monkeypatch.setattr(ak, "analyze", spy)
    code, _, err = run(["analyze", str(far_point_model), "--inputs=0", "--out",
                        str(tmp_path / "o"), "--fixed-point-states", str(tmp_path / "seeds.npy"),
                        "--initial-states", str(tmp_path / "starts.npy"), *FAST], capsys)
    assert code == 1 and "stopped by the test" in err
    np.testing.assert_array_equal(seen["fixed_point_states"], seeds)
    np.testing.assert_array_equal(seen["initial_states"], starts)
    assert seen["initial_states"].dtype == np.float64 and "n_init" not in seen


def test_seed_states_find_a_point_the_search_misses_and_starts_count_the_runs(
        far_point_model, tmp_path, capsys):
    np.save(tmp_path / "seeds.npy", np.array([[9.5], [10.5], [0.5]]))
    np.save(tmp_path / "starts.npy", np.array([[0.5], [1.0], [4.0]]))
    common = ["analyze", str(far_point_model), "--inputs=0", *FAST]
    code, _, err = run([*common, "--out", str(tmp_path / "plain")], capsys)
    assert code == 0, err
    plain = ak.Analysis.load(tmp_path / "plain" / "analysis.npz")
    np.testing.assert_allclose(plain.fixed_points.points, [[0.0]], atol=1e-9)
    assert plain.settings["fixed_point_states"] == "sampled"
    code, _, err = run([*common, "--out", str(tmp_path / "seeded"), "--fixed-point-states",
                        str(tmp_path / "seeds.npy"), "--initial-states",
                        str(tmp_path / "starts.npy")], capsys)
    assert code == 0, err
    seeded = ak.Analysis.load(tmp_path / "seeded" / "analysis.npz")
    points = np.sort(seeded.fixed_points.points[:, 0])
    np.testing.assert_allclose(points, [0.0, 10.0], atol=1e-9)
    assert seeded.settings["fixed_point_states"] == "given"
    assert seeded.settings["initial_states"] == "given"
    assert seeded.settings["sizes"]["n_init"] == 3
    assert seeded.census.attractors.label.shape == (1, 3)   # one run per given start, not 3+3


def _bad_file(kind, path):
    if kind == "shape":
        np.save(path, np.zeros((4, 3)))
    elif kind == "3d":
        np.save(path, np.zeros((2, 4, 1)))   # two conditions, but the inputs have one
    elif kind == "object":
        np.save(path, np.array([{"h": 1.0}, None], dtype=object), allow_pickle=True)
    elif kind == "strings":
        np.save(path, np.array([["a"], ["b"]]))
    elif kind == "nan":
        np.save(path, np.array([[0.0], [np.nan]]))
    elif kind == "not npy":
        path.write_bytes(b"\x93NUMPY but not really")
    return path


@pytest.mark.parametrize("flag", ["--initial-states", "--fixed-point-states"])
@pytest.mark.parametrize("kind, found", [
    ("missing", "no such file"),
    ("shape", "shape (4, 3)"),
    ("3d", "shape (2, 4, 1)"),
    ("object", "dtype object"),
    ("strings", "dtype <U1"),
    ("nan", "1 non-finite value"),
    ("not npy", "cannot read"),
])
def test_bad_state_files_name_the_flag_the_file_and_what_it_holds(
        far_point_model, tmp_path, capsys, monkeypatch, flag, kind, found):
    path = tmp_path / "states.npy"
    if kind != "missing":
        _bad_file(kind, path)
    _forbid_analysis(monkeypatch)
    code, _, err = run(["analyze", str(far_point_model), "--inputs=0", "--out",
                        str(tmp_path / "o"), flag, str(path), *FAST], capsys)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1, err
    assert lines[0].startswith(f"attractorkit: error: {flag}: ") and str(path) in lines[0]
    assert found in lines[0], lines[0]
    if kind in ("shape", "3d"):
        assert "n_state=1" in lines[0]


@pytest.mark.parametrize("extra, match", [
    (["--initial-states", "{d}/s.npy", "--n-init", "4"], "--initial-states and --n-init"),
    (["--fixed-point-states", "{d}/s.npy", "--no-fixed-points"],
     "--fixed-point-states: the fixed-point stage is off"),
])
def test_state_files_that_would_be_ignored_are_refused(far_point_model, tmp_path, capsys,
                                                       monkeypatch, extra, match):
    np.save(tmp_path / "s.npy", np.zeros((2, 1)))
    _forbid_analysis(monkeypatch)
    code, _, err = run(["analyze", str(far_point_model), "--inputs=0", "--out",
                        str(tmp_path / "o"), *[e.format(d=tmp_path) for e in extra], *FAST],
                       capsys)
    assert code == 2 and match in err


def test_warmup_command_compiles_and_says_what(capsys):
    code, out, err = run(["warmup", "--cells", "vanilla", "--analyses", "fixed-points",
                          "--no-progress"], capsys)
    assert code == 0, err
    assert out.startswith("Warmup: ") and "vanilla" in out.splitlines()[0]
    code, out, _ = run(["warmup", "--cells", "gru", "--analyses", "none", "--quiet"], capsys)
    assert code == 0 and out == ""
    code, out, _ = run(["warmup", "--help"], capsys)
    assert code == 0 and "--analyses" in out and "--cells" in out


@pytest.mark.parametrize("argv, match", [
    (["warmup", "--cells", "vanilla,transformer"], "--cells: expected names from vanilla"),
    (["warmup", "--analyses", "census,everything"], "--analyses: expected names from analyze"),
])
def test_warmup_with_bad_names_is_exit_2(capsys, argv, match):
    code, _, err = run(argv, capsys)
    assert code == 2 and match in err and len(err.strip().splitlines()) == 1


def test_missing_checkpoint_key_lists_the_keys_present(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    gru = torch.nn.GRU(2, 3)
    torch.save({"epoch": 3, "weights": gru.state_dict()}, tmp_path / "ckpt.pt")
    (tmp_path / "spec.json").write_text(json.dumps({"key": "state_dict"}))
    base = ["analyze", str(tmp_path / "ckpt.pt"), "--inputs=0,0", "--out", str(tmp_path / "o"),
            "--no-progress"]
    code, _, err = run([*base, "--spec", str(tmp_path / "spec.json")], capsys)
    assert code == 2
    assert "key 'state_dict' is not in the checkpoint; its keys are 'epoch', 'weights'" in err
    code, _, err = run(base, capsys)   # no key given, and no state_dict at a usual name
    assert code == 2 and "its keys are 'epoch', 'weights'" in err and '"key"' in err
    (tmp_path / "spec.json").write_text(json.dumps({"key": "weights"}))
    code, _, err = run([*base, "--spec", str(tmp_path / "spec.json"), "--no-census",
                        "--no-lyapunov", "--cycles", "none", "--no-report", "--quiet"], capsys)
    assert code == 0, err
