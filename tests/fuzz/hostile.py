"""Hostile values for the fuzz suite: junk, wrong shapes and dtypes, NaN/Inf, empty arrays,
absurd sizes and malformed models; and the one property every public entry point must keep.

The property: called with anything, an entry point either works or raises an
:class:`attractorkit.AttractorKitError`; never a raw numpy or Python error.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from attractorkit import AttractorKitError

_COMMON = dict(deadline=None, derandomize=True, database=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.filter_too_much])


def profiles(n: int):
    """Run a test body twice: a quick seeded profile of ``2 n`` examples in the default suite
    (the whole fuzz suite stays within about 30 s on two cores) and a ``20 n`` one under
    ``-m slow``."""
    return pytest.mark.parametrize("profile", [
        pytest.param(settings(max_examples=2 * n, **_COMMON), id="quick"),
        pytest.param(settings(max_examples=20 * n, **_COMMON), id="long",
                     marks=pytest.mark.slow),
    ])


def call(fn, *args, **kwargs):
    """Call ``fn``; success or an AttractorKitError pass, any other exception propagates.

    Warnings are silenced: they are not errors, and hostile inputs may well deserve some.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn(*args, **kwargs)
        except AttractorKitError:
            return None


class _Opaque:
    def __repr__(self):
        return "<opaque>"


# -- values ------------------------------------------------------------------------------------
JUNK = [None, "abc", "", b"xy", {"a": 1}, [[1.0, 2.0], [3.0]], [1, "a"], _Opaque(), 3 + 2j,
        [], (), {1, 2}, float("nan"), slice(1), np.datetime64("2020-01-01")]

SCALARS = [-1, 0, 1, 2, 3, 0.5, -0.5, 1e-300, float("nan"), float("inf"), -float("inf"), True,
           False, None, "3", "abc", 10**12, 2**64, np.int64(-3), np.float64("nan"), [1],
           np.array([1, 2]), np.array(2.0), 1 + 1j, _Opaque()]

_DTYPES = st.sampled_from([np.float64, np.float32, np.int64, np.uint8, np.bool_,
                           np.complex128, "U3"])
_SHAPES = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)


def _objects(shape):
    arr = np.empty(shape, dtype=object)
    flat = arr.reshape(-1)
    for i in range(flat.size):
        flat[i] = (None, "x", 1, 2.5, [1])[i % 5]
    return arr


def arrays(shape=None):
    """Arrays of random dtype (numbers with NaN/Inf, booleans, complex, strings, objects) of
    ``shape`` or of any small shape (empty ones included)."""
    shapes = _SHAPES if shape is None else st.one_of(st.just(tuple(shape)), _SHAPES)
    numeric = st.builds(lambda d, s: (d, s), _DTYPES, shapes).flatmap(
        lambda ds: hnp.arrays(ds[0], ds[1]))
    special = shapes.flatmap(lambda s: st.sampled_from([
        np.full(s, np.nan), np.full(s, np.inf), np.full(s, 1e308), np.zeros(s, dtype=int),
        _objects(s)]))
    return st.one_of(numeric, special)


def values(shape=None):
    """Anything: junk, scalars, or arrays (near ``shape`` when given)."""
    return st.one_of(st.sampled_from(JUNK), st.sampled_from(SCALARS), arrays(shape))


def scalars():
    return st.one_of(st.sampled_from(SCALARS), st.sampled_from(JUNK))


# -- models ------------------------------------------------------------------------------------
class DuckModel:
    """A hand-written model with one defect chosen by the keywords."""

    def __init__(self, n_state=3, n_input=2, time="discrete", dt=None, step=None,
                 jacobian=None, input_jacobian=None):
        self.n_state, self.n_input, self.time, self.dt = n_state, n_input, time, dt
        self._step, self._jac, self._ijac = step, jacobian, input_jacobian

    def __repr__(self):
        return f"DuckModel(n_state={self.n_state!r}, time={self.time!r}, dt={self.dt!r})"

    def step(self, h, x):
        if self._step is not None:
            return self._step(h, x)
        return 0.5 * np.asarray(h)

    def jacobian(self, h, x):
        if self._jac is not None:
            return self._jac(h, x)
        return np.broadcast_to(0.5 * np.eye(3), (np.shape(h)[0], 3, 3)).copy()

    def input_jacobian(self, h, x):
        if self._ijac is not None:
            return self._ijac(h, x)
        return np.zeros((np.shape(h)[0], 3, 2))


def _raise(h, x):
    raise RuntimeError("a model that fails")


def hostile_models():
    """Non-models and models that break the contract in one way each."""
    nan_jac = lambda h, x: np.full((np.shape(h)[0], 3, 3), np.nan)  # noqa: E731
    return [
        None, 3, "rnn", np.eye(3), _Opaque(),
        DuckModel(n_state=0), DuckModel(n_state=-2), DuckModel(n_state=2.5),
        DuckModel(n_state=True), DuckModel(n_input=-1), DuckModel(time="sideways"),
        DuckModel(time="continuous", dt=None), DuckModel(time="continuous", dt=-0.1),
        DuckModel(time="continuous", dt=float("nan")), DuckModel(time="continuous", dt="0.1"),
        DuckModel(time=["discrete"]),
        DuckModel(step=lambda h, x: np.asarray(h)[:, :2]),
        DuckModel(step=lambda h, x: np.asarray(h) * 1j),
        DuckModel(step=lambda h, x: np.asarray(h).tolist()),
        DuckModel(step=lambda h, x: None),
        DuckModel(step=_raise),
        DuckModel(step=lambda h, x: np.full(np.shape(h), np.nan)),
        DuckModel(jacobian=lambda h, x: np.eye(3)),
        DuckModel(jacobian=nan_jac),
        DuckModel(jacobian=_raise),
        DuckModel(input_jacobian=lambda h, x: np.zeros((3, 2))),
    ]


def fuzz(profile, fn, valid: dict, hostile: dict, *, max_changed: int = 2):
    """Property test of ``fn``: ``valid`` keyword arguments work; replacing one or two of them
    by values drawn from ``hostile[name]`` gives a result or an AttractorKitError."""
    from hypothesis import given

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fn(**valid)  # the baseline works, so every failure below comes from a hostile value
    names = sorted(hostile)

    @profile
    @given(data=st.data())
    def run(data):
        chosen = data.draw(st.lists(st.sampled_from(names), min_size=1,
                                    max_size=min(max_changed, len(names)), unique=True))
        kw = dict(valid)
        for name in chosen:
            kw[name] = data.draw(hostile[name], label=name)
        call(fn, **kw)

    run()
