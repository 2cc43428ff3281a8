"""The result convention (issue 14, item 4): ``repr`` of every result is a few lines of summary,
never an array dump, at realistic sizes."""

import dataclasses

import numpy as np
import pytest

import attractorkit as ak
from attractorkit import Result, adapters, fixed_points


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


@pytest.fixture(scope="module")
def results():
    g = np.random.default_rng(0)
    n = 20
    W = 1.4 * g.standard_normal((n, n)) / np.sqrt(n)
    model = adapters.VanillaRNN(W, g.standard_normal((n, 2)), activation="tanh")
    grid = np.stack(np.meshgrid(np.linspace(-1, 1, 3), np.linspace(-1, 1, 3)),
                    -1).reshape(-1, 2)
    act = g.standard_normal((400, 12))
    variables = {"context": np.repeat([0, 1], 200), "value": g.standard_normal(400)}
    analysis = ak.analyze(model, grid, activity=act, variables=variables, n_init=4,
                          n_steps=200, n_transient=100, n_fixed_point_init=32,
                          n_lyapunov_steps=200, grid_shape=(3, 3), rng=0)
    out = [analysis] + [getattr(analysis, f.name) for f in dataclasses.fields(analysis)
                        if isinstance(getattr(analysis, f.name), Result)]
    census = analysis.census
    out += [census.attractors] + [v for v in vars(census.attractors).values()
                                  if isinstance(v, Result)]
    fp = analysis.fixed_points
    out.append(ak.linear_stability(model, fp.points, grid[fp.condition]))
    out.append(ak.continue_fixed_points(model, grid[:3], n_init=16, rng=0))
    traj = ak.simulate(model, g.standard_normal((8, n)), grid, 300)
    out.append(traj)
    out.append(ak.poincare_section(traj.states[0, 0]))
    out.append(ak.shuffle_test(act[:, 0], variables["value"], n_shuffles=50, rng=0))
    trials = g.standard_normal((40, 6, 12))
    choice = np.repeat([0, 1], 20)
    out.append(ak.cross_temporal_decoding(trials, {"choice": choice}, cv=2, rng=0))
    pops = [ak.populations(g.standard_normal(n), g.standard_normal(n)) for _ in range(5)]
    out += pops[:1] + [ak.balance_summary(pops)]
    out.append(ak.pca_trajectories(trials, choice))
    out.append(ak.crystallization_time(trials, choice, cv=2, rng=0))
    out.append(ak.find_cycles(model, grid[:2], period=2, n_init=16, rng=0))
    out.append(fixed_points.newton_solve(model, g.standard_normal((200, n)), grid[0]))
    line = adapters.VanillaRNN(np.diag([1.0] + [0.5] * (n - 1)), activation="identity")
    out += ak.find_fixed_points(line, n_init=32, rng=0).manifolds[:1]
    return [r for r in out if r is not None]


def test_every_result_class_has_the_short_repr(results):
    """@dataclass writes a __repr__ that dumps every field unless the class has one: every
    result class gets Result's (or its own, which a realistic instance above then checks)."""
    covered = {type(r) for r in results}
    classes = [c for c in _subclasses(Result) if c.__module__.startswith("attractorkit.")]
    assert len(classes) >= 20
    for cls in classes:
        own = cls.__dict__.get("__repr__")
        assert own is Result.__repr__ or (own is not None and cls in covered), cls


def test_repr_is_a_short_summary_never_an_array_dump(results):
    """Regression (issue 14): print(ak.find_fixed_points(...)) dumped every array (5,600
    characters for a 20-unit model), because @dataclass replaced the short repr."""
    for res in results:
        text = repr(res)
        name = type(res).__name__
        assert len(text) < 600, f"{name}: {len(text)} characters\n{text}"
        assert len(text.splitlines()) <= 9, f"{name}:\n{text}"
        assert "array(" not in text and "[[" not in text, f"{name} dumps arrays:\n{text}"
        assert str(res) == text


def test_every_result_round_trips_through_its_file(results, tmp_path):
    """save() then load() gives the same result; declared array_shapes hold on real data."""
    from attractorkit import results_equal

    for k, res in enumerate(results):
        back = type(res).load(res.save(tmp_path / f"r{k}"))
        assert results_equal(back, res), type(res).__name__
