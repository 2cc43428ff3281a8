"""The one ``replace`` of the options dataclasses: unknown names are named, valid ones listed."""

import dataclasses

import pytest

import attractorkit as ak
from attractorkit.core import replace_options


@dataclasses.dataclass(frozen=True)
class Opts:
    n_steps: int = 10
    tol: float = 1e-6

    def __post_init__(self):
        if self.n_steps < 1:
            raise ak.ValidationError("n_steps: expected >= 1")


def test_replace_options_copies_and_validates():
    opts = Opts()
    new = replace_options(opts, {"tol": 1e-3}, of="run()")
    assert new == Opts(tol=1e-3) and opts == Opts()
    with pytest.raises(ak.ValidationError, match="n_steps: expected >= 1"):
        replace_options(opts, {"n_steps": 0}, of="run()")


def test_unknown_names_are_named_with_the_valid_ones():
    with pytest.raises(ak.ValidationError,
                       match=r"^n_stpes, zzz: not an option of run\(\) \(unknown names, did you "
                             r"mean n_steps\?\); the options are n_steps, tol \(see Opts\)$"):
        replace_options(Opts(), {"zzz": 1, "n_stpes": 3}, of="run()")
    with pytest.raises(ak.ValidationError, match="expected a dataclass instance"):
        replace_options(Opts, {}, of="run()")


def test_the_options_classes_share_it():
    with pytest.raises(ak.ValidationError,
                       match=r"tol_uniq: not an option of find_fixed_points\(\).*tol_unique"):
        ak.FixedPointOptions().replace(tol_uniq=1e-3)
    assert ak.FixedPointOptions().replace(n_init=8).n_init == 8
    with pytest.raises(ak.ValidationError, match="thresholds.*unknown.*fp_tol"):
        ak.ClassifierThresholds().replace(fp_tl=1.0)
    assert ak.ClassifierThresholds().replace(fp_tol=1e-6).fp_tol == 1e-6
