"""The census bounds, their sensitivity and the audit in analyze(): the stage, the summary, the
result file and the HTML report (issue 16)."""

import dataclasses

import numpy as np
import pytest
from systems import Rotation

import attractorkit as ak
from attractorkit import ValidationError, adapters
from attractorkit.attractors import CensusAudit, ThresholdSensitivity

GOLDEN = (np.sqrt(5) - 1) / 2
OMEGAS = np.array([0.25, GOLDEN, 0.1, np.sqrt(2) - 1])
ONLY_CENSUS = dict(fixed_points=False, cycles=False, lyapunov=False, state_space=False)


def contracting_rnn(n=3, n_input=1):
    return adapters.VanillaRNN(0.5 * np.eye(n), np.eye(n, n_input), activation="tanh")


@pytest.fixture(scope="module")
def rotation():
    return ak.analyze(Rotation(), OMEGAS[:, None], initial_states=[[0.5, 0.0], [0.0, 1.5]],
                      axis_names=("omega",), audit_conditions=4, audit_factor=2, rng=0,
                      **ONLY_CENSUS)


def test_planted_rotation_bounds_and_an_audit_that_keeps_every_label(rotation):
    r = rotation
    assert r.attractors.label.tolist() == [["periodic"] * 2, ["quasi_periodic"] * 2] * 2
    assert r.census.qp_lower.tolist() == [0.0, 1.0, 0.0, 1.0]
    assert r.census.qp_upper.tolist() == [0.0, 1.0, 0.0, 1.0]
    assert r.census.qp_bounds == (0.5, 0.5)
    assert isinstance(r.census.sensitivity, ThresholdSensitivity)
    audit = r.audit
    assert isinstance(audit, CensusAudit)
    assert audit.conditions.tolist() == [0, 1, 2, 3] and audit.factor == 2.0
    assert audit.held.all() and audit.share_held == 1.0 and audit.transitions() == {}
    np.testing.assert_array_equal(audit.audited, r.attractors.label)
    assert r.settings["audit"] == {"conditions": 4, "factor": 2}
    assert "audit" in r.timings


def test_summary_shows_the_bounds_the_sensitivity_range_and_the_audit(rotation):
    rows = dict(rotation.summary_rows())
    lo, hi = rotation.census.sensitivity.range()
    assert rows["quasi-periodic share"].startswith("[50.0%, 50.0%] of runs")
    assert f"halved/doubled: within [{lo:.1%}, {hi:.1%}]" in rows["quasi-periodic share"]
    assert rows["audit"] == ("4 of 4 re-run conditions kept their labels (runs 2x longer); "
                             "8 of 8 runs held")
    text = rotation.summary()
    assert "quasi-periodic share  [50.0%, 50.0%]" in text
    assert "audit" in text and "4 of 4 re-run conditions kept their labels" in text


def test_a_changed_label_is_reported_in_the_summary(rotation):
    held = rotation.audit.held.copy()
    held[1, 0] = False
    audited = rotation.audit.audited.copy()
    audited[1, 0] = "undetermined"
    worse = dataclasses.replace(rotation, audit=dataclasses.replace(
        rotation.audit, held=held, audited=audited, share_held=float(held.mean())))
    assert dict(worse.summary_rows())["audit"] == (
        "3 of 4 re-run conditions kept their labels (runs 2x longer); 7 of 8 runs held; "
        "changed: quasi_periodic->undetermined 1")


def test_audit_off_or_census_off_means_no_audit_and_no_line():
    model = contracting_rnn()
    off = ak.analyze(model, [[0.0], [0.3]], audit_conditions=0, rng=0, n_init=2, n_steps=100,
                     n_transient=50, **ONLY_CENSUS)
    assert off.audit is None and "audit" not in off.timings
    rows = dict(off.summary_rows())
    assert "audit" not in rows and rows["quasi-periodic share"].startswith("[0.0%, 0.0%]")
    no_census = ak.analyze(model, [0.0], census=False, audit_conditions=3, rng=0,
                           n_fixed_point_init=4, cycles=False, state_space=False)
    assert no_census.audit is None and no_census.census is None
    assert not {"audit", "quasi-periodic share"} & set(dict(no_census.summary_rows()))


def test_audit_is_seeded_by_analyze_and_changes_no_other_result():
    model = contracting_rnn()
    kw = dict(rng=5, n_init=2, n_steps=100, n_transient=50, n_fixed_point_init=4)
    grid = np.linspace(-1, 1, 6)[:, None]
    a = ak.analyze(model, grid, audit_conditions=2, **kw)
    b = ak.analyze(model, grid, audit_conditions=2, **kw)
    off = ak.analyze(model, grid, audit_conditions=0, **kw)
    assert ak.results_equal(a.audit, b.audit)
    assert a.audit.conditions.size == 2
    for name in ("census", "fixed_points", "cycles", "lyapunov", "state_space"):
        assert ak.results_equal(getattr(a, name), getattr(off, name)), name


def test_save_load_round_trips_bounds_sensitivity_and_audit(rotation, tmp_path):
    back = ak.Analysis.load(rotation.save(tmp_path / "rotation"))
    assert ak.results_equal(back, rotation)
    assert back.census.qp_bounds == rotation.census.qp_bounds
    np.testing.assert_array_equal(back.census.qp_lower, rotation.census.qp_lower)
    np.testing.assert_array_equal(back.census.qp_upper, rotation.census.qp_upper)
    assert back.census.sensitivity.table() == rotation.census.sensitivity.table()
    assert isinstance(back.audit, CensusAudit)
    assert ak.results_equal(back.audit, rotation.audit)
    assert back.summary() == rotation.summary()
    # the bounded loader checks the audit's arrays like any other: a tiny ceiling refuses
    with pytest.raises(ak.ResultFileError, match="max_bytes"):
        ak.Analysis.load(tmp_path / "rotation.npz", max_bytes=64)


def test_report_has_the_bounds_sensitivity_and_audit_section(rotation, tmp_path):
    text = rotation.report(tmp_path / "report.html").read_text(encoding="utf-8")
    head = '<h2 id="qp-bounds">Quasi-periodic share: bounds, sensitivity, audit</h2>'
    assert head in text
    section = text[text.index(head):text.index("<h2>", text.index(head) + len(head))]
    assert "<th>qp share lower</th><th>qp share upper</th>" in section
    # one row per condition: index, omega, lower, upper
    assert section.count('<tr><td class="num">') >= 4
    assert "<td>line_fraction</td>" in section and "<th>x0.5</th><th>x2</th>" in section
    assert "Audit: labels re-checked by runs 2x longer" in section
    assert "<td>quasi_periodic 2</td><td>quasi_periodic 2</td><td>2 of 2</td>" in section
    assert 'id="fig-qp_bounds"' in text


def test_report_without_an_audit_has_the_bounds_but_no_audit_table(tmp_path):
    r = ak.analyze(contracting_rnn(), [[0.0], [0.3]], audit_conditions=0, rng=0, n_init=2,
                   n_steps=100, n_transient=50, **ONLY_CENSUS)
    text = r.report(tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'id="qp-bounds"' in text and "re-checked" not in text


def test_plot_qp_bounds_on_one_and_two_dimensional_grids(rotation):
    from matplotlib.figure import Figure

    fig = rotation.plot_qp_bounds()
    assert isinstance(fig, Figure) and fig.axes[0].has_data()
    assert fig.axes[0].get_xlabel() == "omega"
    grid = np.stack(np.meshgrid([-1.0, 1.0], [0.0, 0.5, 1.0], indexing="ij"), axis=-1)
    r = ak.analyze(contracting_rnn(n=2, n_input=2), grid, rng=0, n_init=2, n_steps=100,
                   n_transient=50, audit_conditions=0, **ONLY_CENSUS)
    fig = r.plot_qp_bounds()
    assert len(fig.axes) == 3  # lower, upper and the colour bar
    with pytest.raises(ValidationError, match="ax: a 2-D grid is drawn in two panels"):
        r.plot_qp_bounds(ax=fig.axes[0])


@pytest.mark.parametrize("kwargs, match", [
    ({"audit_conditions": -1}, "audit_conditions: expected an integer >= 0, received -1"),
    ({"audit_conditions": 2.5}, "audit_conditions: expected an integer, received float"),
    ({"audit_conditions": True}, "audit_conditions: expected an integer, received bool"),
    ({"audit_factor": 0}, "audit_factor: expected an integer >= 1, received 0"),
    ({"audit_factor": "10"}, "audit_factor: expected an integer, received str"),
])
def test_bad_audit_options_are_named(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        ak.analyze(contracting_rnn(), [0.0], **kwargs)
    with pytest.raises(ValidationError, match=match):
        ak.AnalysisOptions(**kwargs)


def test_audit_options_accept_numpy_integers():
    opts = ak.AnalysisOptions(audit_conditions=np.int64(3), audit_factor=np.int32(4))
    assert (opts.audit_conditions, opts.audit_factor) == (3, 4)
    assert type(opts.audit_conditions) is int
