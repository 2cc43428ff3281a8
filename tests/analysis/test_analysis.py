"""analyze(): the one-call facade, its Analysis result, persistence, plots and validation."""

import dataclasses
import warnings

import numpy as np
import pytest

import attractorkit as ak
from attractorkit import ModelTypeError, ResultFileError, ValidationError, adapters

SMALL = dict(n_init=3, n_steps=200, n_transient=100, n_fixed_point_init=8)


def contracting_rnn(n=4, gain=0.5, n_input=2):
    """tanh RNN h' = tanh(gain * h + U x): one stable fixed point per input, exponent log(gain)
    at x = 0 (the Jacobian there is gain * I)."""
    U = np.eye(n, n_input)
    return adapters.VanillaRNN(gain * np.eye(n), U, activation="tanh")


@pytest.fixture(scope="module")
def grid_analysis():
    model = contracting_rnn()
    a = np.linspace(-1.0, 1.0, 3)
    b = np.array([0.0, 0.5])
    grid = np.stack(np.meshgrid(a, b, indexing="ij"), axis=-1)         # (3, 2, 2)
    rng = np.random.default_rng(3)
    activity = rng.standard_normal((300, 5))
    variables = {"choice": (activity[:, 0] > 0).astype(float),
                 "noise": rng.standard_normal(300)}
    result = ak.analyze(model, grid, axis_names=("a", "b"), activity=activity,
                        variables=variables, rng=0, **SMALL)
    return model, grid, result


def test_grid_shape_axes_and_every_stage(grid_analysis):
    model, grid, r = grid_analysis
    assert r.grid_shape == (3, 2) and r.axis_names == ("a", "b")
    np.testing.assert_array_equal(r.inputs, grid.reshape(6, 2))
    np.testing.assert_allclose(r.axes[0], [-1.0, 0.0, 1.0])
    np.testing.assert_allclose(r.axes[1], [0.0, 0.5])
    assert type(r.fixed_points).__name__ == "FixedPoints"
    assert [type(c).__name__ for c in r.cycles] == ["Cycles"]
    assert type(r.census).__name__ == "Census" and r.attractors is r.census.attractors
    assert r.attractors.label.shape == (6, 3)
    assert r.lyapunov.exponents.shape == (6, 3, 3)
    assert type(r.selectivity).__name__ == "Selectivity"
    assert type(r.connectivity).__name__ == "Connectivity"
    assert r.state_space.components.shape == (3, model.n_state)
    assert set(r.timings) == {"fixed points", "cycles", "census", "lyapunov", "state space",
                              "selectivity", "connectivity", "audit"}
    assert type(r.audit).__name__ == "CensusAudit" and r.audit.conditions.size == 1


def test_contracting_model_analytic_ground_truth(grid_analysis):
    _, _, r = grid_analysis
    fp = r.fixed_points
    # one stable fixed point per condition, solving h = tanh(0.5 h + U x)
    assert np.bincount(fp.condition, minlength=6).tolist() == [1] * 6
    assert fp.stable.all()
    x = r.inputs[fp.condition]
    U = np.eye(4, 2)
    np.testing.assert_allclose(fp.points, np.tanh(0.5 * fp.points + x @ U.T), atol=1e-9)
    assert np.all(r.attractors.label == "fixed_point")
    # at x = 0 the fixed point is the origin with Jacobian 0.5 I: every exponent is log 0.5
    zero = np.flatnonzero(np.all(r.inputs == 0, axis=1))[0]
    np.testing.assert_allclose(r.lyapunov.exponents[zero], np.log(0.5), atol=1e-3)
    # the selectivity stage saw the planted dependency of unit 0 on "choice"
    mi = r.selectivity.mi
    assert mi[0, 0] > 0.3 and mi[0, 0] == mi[:, 0].max()


def test_summary_and_condition_table(grid_analysis):
    _, _, r = grid_analysis
    text = r.summary()
    for word in ("fixed points", "attractors", "lyapunov", "selectivity", "6 (3 x 2 grid over a"
                 " x b)"):
        assert word in text
    table = r.condition_table()
    assert table["fixed points"].tolist() == [1] * 6
    assert table["share fixed_point"].tolist() == [1.0] * 6
    assert table["a index"].tolist() == [0, 0, 1, 1, 2, 2]
    frame = r.to_frame()
    assert frame.shape[0] == 6 and "max lyapunov (median)" in frame.columns


def test_save_load_round_trips_every_field(grid_analysis, tmp_path):
    _, _, r = grid_analysis
    path = r.save(tmp_path / "analysis")
    again = ak.Analysis.load(path)
    assert ak.results_equal(r, again)
    # results_equal really compares: a changed field is noticed
    import dataclasses

    changed = dataclasses.replace(again, timings={**again.timings, "census": -1.0})
    assert not ak.results_equal(r, changed)


def test_truncated_and_corrupted_files_give_clear_errors(grid_analysis, tmp_path):
    _, _, r = grid_analysis
    path = r.save(tmp_path / "analysis.npz")
    data = path.read_bytes()
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ResultFileError, match="truncated or corrupted"):
        ak.Analysis.load(truncated)
    corrupted = tmp_path / "corrupted.npz"
    middle = len(data) // 2
    corrupted.write_bytes(data[:middle] + bytes(b ^ 0xFF for b in data[middle:middle + 64])
                          + data[middle + 64:])
    with pytest.raises(ResultFileError, match="truncated or corrupted"):
        ak.Analysis.load(corrupted)
    with pytest.raises(ResultFileError, match="no result file"):
        ak.Analysis.load(tmp_path / "missing.npz")
    # damage anywhere: a clear error or, where the byte did not matter, the same result
    rng = np.random.default_rng(0)
    for i, pos in enumerate(rng.choice(len(data), size=40, replace=False)):
        damaged = tmp_path / f"damaged{i}.npz"
        damaged.write_bytes(data[:pos] + bytes([data[pos] ^ 0x5A]) + data[pos + 1:])
        try:
            loaded = ak.Analysis.load(damaged)
        except ResultFileError as exc:
            assert str(damaged) in str(exc)
        else:
            assert ak.results_equal(r, loaded)
    other = r.fixed_points.save(tmp_path / "fp.npz")
    with pytest.raises(ResultFileError, match="not a Analysis|not an Analysis|holds a FixedPoints"):
        ak.Analysis.load(other)


def test_every_plot_returns_a_figure(grid_analysis):
    from matplotlib.figure import Figure

    _, _, r = grid_analysis
    names = ("eigenvalues", "state_space", "poincare", "census", "qp_bounds", "lyapunov",
             "selectivity", "connectivity")
    for name in names:
        fig = getattr(r, f"plot_{name}")()
        assert isinstance(fig, Figure) and fig.axes, name
        assert fig.axes[0].has_data(), name
    assert set(r.figures()) == set(names)


def test_stages_switch_off_and_plots_say_what_is_missing():
    model = contracting_rnn(n=3, n_input=1)
    r = ak.analyze(model, [0.2], fixed_points=False, cycles=False, census=False,
                   lyapunov=False, state_space=False, rng=0)
    assert r.fixed_points is None and r.cycles is None and r.census is None
    assert r.lyapunov is None and r.selectivity is None and r.state_space is None
    assert r.attractors is None and r.figures() == {}
    with pytest.raises(ValidationError, match="run analyze with fixed_points=True"):
        r.plot_eigenvalues()
    with pytest.raises(ValidationError, match="census=True"):
        r.plot_census()
    assert "conditions" in r.summary() and r.grid_shape == ()


def test_raw_torch_module_is_wrapped():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    rnn = torch.nn.RNN(2, 5)
    with torch.no_grad():
        rnn.weight_hh_l0.mul_(0.1)
    before = [p.requires_grad for p in rnn.parameters()]
    r = ak.analyze(rnn, np.zeros(2), census=False, lyapunov=False, cycles=False, rng=0,
                   n_fixed_point_init=8)
    assert "TorchModel" in r.model and r.fixed_points.stable.sum() == 1
    assert [p.requires_grad for p in rnn.parameters()] == before


def test_plain_callable_needs_sizes_and_says_so():
    def step(h, x):
        return 0.5 * h

    with pytest.raises((ModelTypeError, ValidationError, TypeError),
                       match="model: cannot analyse a function directly"):
        ak.analyze(step, np.zeros(0))
    with pytest.warns(ak.FiniteDifferenceWarning):
        r = ak.analyze(step, np.zeros(0), model_options={"n_state": 2, "n_input": 0},
                       census=False, lyapunov=False, cycles=False, state_space=False, rng=0,
                       n_fixed_point_init=4)
    np.testing.assert_allclose(r.fixed_points.points, 0.0, atol=1e-8)


def test_unsupported_object_says_which_adapter_to_use():
    with pytest.raises(ModelTypeError, match="adapters.wrap"):
        ak.analyze(object(), np.zeros(1))


@pytest.mark.parametrize("kwargs,match", [
    (dict(inputs=np.zeros(3)), "inputs: expected the last axis to have width n_input=2"),
    (dict(inputs=np.zeros((4, 2)), grid_shape=(3, 2)), "grid_shape: .* holds 6 conditions"),
    (dict(inputs=np.zeros((4, 2)), grid_shape=(2, 2), axis_names=("a",)),
     "axis_names: expected 2 name"),
    (dict(inputs=np.zeros(2), initial_states=np.zeros((3, 5))),
     r"initial_states: expected shape \(n_init, n_state=4\)"),
    (dict(inputs=np.zeros(2), census_options={"n_stepz": 3}),
     "attractor_census takes no option.*'n_stepz'"),
    (dict(inputs=np.zeros(2), information=True), "information: the information analyses need"),
    (dict(inputs=np.zeros(2), activity=np.zeros((5, 2))), "activity, variables: give both"),
    (dict(inputs=np.zeros(2), n_init=0), "n_init: expected an integer >= 1"),
    (dict(inputs=[np.nan, 0.0]), "inputs: expected finite values"),
    (dict(inputs=np.zeros(2), cycles=[1]), "cycles: expected an integer >= 2"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        ak.analyze(contracting_rnn(), **kwargs)


def test_flows_have_no_discrete_cycles():
    flow = adapters.VanillaRNN(0.5 * np.eye(2), activation="tanh", time="continuous")
    with pytest.raises(ValidationError, match="cycles: period-p cycles are searched in maps"):
        ak.analyze(flow, np.zeros(0), cycles=[2])
    r = ak.analyze(flow, np.zeros(0), census=False, rng=0, n_fixed_point_init=4, n_init=2,
                   n_steps=200, n_transient=100)
    assert r.cycles is None and r.time == "continuous"
    assert np.all(r.lyapunov.exponents < 0)      # dh/dt = -h + tanh(0.5 h): contracting


def test_warnings_are_kept_as_notes_and_re_emitted():
    unstable = adapters.VanillaRNN(2.0 * np.eye(2), np.ones((2, 1)), activation="identity")
    with pytest.warns(ak.ConvergenceWarning):
        r = ak.analyze(unstable, np.zeros(1), fixed_points=False, cycles=False,
                       state_space=False, rng=0, n_init=2, n_steps=100, n_transient=50)
    assert np.all(r.attractors.label == "divergent")
    assert r.notes and all("ConvergenceWarning" in n for n in r.notes)


def test_per_condition_initial_states_and_progress_bar(capsys):
    model = contracting_rnn(n=3, n_input=1)
    init = np.random.default_rng(0).standard_normal((2, 4, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=Warning)   # tqdm's own notebook warnings
        r = ak.analyze(model, [[0.0], [0.5]], initial_states=init, cycles=False,
                       progress=True, rng=0, n_steps=100, n_transient=50)
    assert r.attractors.label.shape == (2, 4)
    np.testing.assert_allclose(r.fixed_points.points[r.fixed_points.condition == 0], 0.0,
                               atol=1e-9)
    assert "analyze" in capsys.readouterr().err


def test_same_seed_same_result():
    model = contracting_rnn(n=3, n_input=1)
    a = ak.analyze(model, [0.3], rng=7, **SMALL)
    b = ak.analyze(model, [0.3], rng=7, **SMALL)
    import dataclasses

    assert ak.results_equal(dataclasses.replace(a, timings={}), dataclasses.replace(b, timings={}))


def test_one_dimensional_grid_is_described_by_its_axis():
    model = contracting_rnn(n=2, n_input=1)
    r = ak.analyze(model, np.linspace(0, 1, 3)[:, None], grid_shape=(3,), axis_names=("drive",),
                   fixed_points=False, cycles=False, lyapunov=False, state_space=False, rng=0,
                   **SMALL)
    assert "3 constant inputs along drive (0 to 1)" in r.summary()
    np.testing.assert_allclose(r.axes[0], [0.0, 0.5, 1.0])
    assert r.census.axis_names == ["drive"]


def test_single_condition_figures_render_without_warnings(tmp_path):
    model = contracting_rnn(n=3, n_input=1)
    r = ak.analyze(model, [0.1], rng=0, **SMALL)
    figs = r.figures()
    assert set(figs) == {"eigenvalues", "state_space", "poincare", "census", "lyapunov"}
    for fig in figs.values():
        fig.savefig(tmp_path / "f.png")


def test_model_without_inputs_runs_every_stage():
    model = adapters.VanillaRNN(0.5 * np.eye(2), activation="tanh")
    r = ak.analyze(model, np.zeros(0), rng=0, **SMALL)
    assert r.inputs.shape == (1, 0) and r.grid_shape == ()
    assert np.all(r.attractors.label == "fixed_point")
    np.testing.assert_allclose(r.lyapunov.exponents, np.log(0.5), atol=1e-3)
    assert r.fixed_points.stable.sum() == 1


# -- options -----------------------------------------------------------------------------------
def test_options_dataclass_and_keyword_shortcuts_agree():
    model = contracting_rnn(n=3, n_input=1)
    opts = ak.AnalysisOptions(n_steps=120, n_transient=40, cycles=False, lyapunov=False,
                              state_space=False, n_init=3)
    a = ak.analyze(model, [0.2], options=opts, rng=3)
    b = ak.analyze(model, [0.2], rng=3, n_steps=120, n_transient=40, cycles=False,
                   lyapunov=False, state_space=False, n_init=3)
    assert a.settings["sizes"] == b.settings["sizes"]
    np.testing.assert_array_equal(a.attractors.label, b.attractors.label)
    # a shortcut overrides the options it is given with
    c = ak.analyze(model, [0.2], options=opts, n_init=2, rng=3)
    assert c.attractors.label.shape == (1, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.n_steps = 5


@pytest.mark.parametrize("kwargs, match", [
    ({"n_stpes": 10}, r"n_stpes: not an option of analyze\(\).*n_steps"),
    ({"n_steps": 0}, "n_steps"),
    ({"census": "yes"}, "census: expected True or False"),
    ({"cycles": [1]}, "cycles"),
    ({"census_options": [("n_steps", 3)]}, "census_options: expected a dict"),
    ({"options": {"n_steps": 10}}, "options: expected an attractorkit.AnalysisOptions"),
])
def test_bad_options_are_named(kwargs, match):
    model = contracting_rnn(n=3, n_input=1)
    with pytest.raises(ValidationError, match=match):
        ak.analyze(model, [0.0], **kwargs)


def test_fixed_point_states_seed_the_search_and_start_no_census_run():
    """Issue 20: 500 states meant as fixed-point seeds must not become 500 census runs."""
    model = contracting_rnn(n=3, n_input=1)
    pool = np.random.default_rng(1).standard_normal((500, 3))
    r = ak.analyze(model, [0.0], fixed_point_states=pool, n_init=4, cycles=False,
                   lyapunov=False, state_space=False, n_steps=100, n_transient=50, rng=0)
    assert r.attractors.label.shape == (1, 4)
    assert r.settings["fixed_point_states"] == "given"
    assert r.settings["initial_states"] == "sampled"
    np.testing.assert_allclose(r.fixed_points.points, 0.0, atol=1e-9)
    with pytest.raises(ValidationError, match=r"fixed_point_states: expected shape \(n, "):
        ak.analyze(model, [0.0], fixed_point_states=np.zeros((4, 2)))


def test_defaults_are_one_public_place():
    from attractorkit.analysis import DEFAULTS

    opts = ak.AnalysisOptions()
    assert all(getattr(opts, k) == v for k, v in DEFAULTS.items())
    with pytest.raises(TypeError):
        DEFAULTS["n_steps"] = 3  # read-only view of AnalysisOptions()
