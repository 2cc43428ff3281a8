"""Result save/load: exact round trips, atomic writes, and clear errors on damaged files."""

import dataclasses
import json
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from attractorkit import Result, ResultFileError, ValidationError, results_equal


@dataclasses.dataclass(frozen=True, eq=False)
class _Inner(Result):
    values: np.ndarray
    note: str


@dataclasses.dataclass(frozen=True, eq=False)
class _Outer(Result):
    points: np.ndarray
    labels: np.ndarray
    count: int
    tol: float
    name: str
    flag: bool
    missing: object
    options: dict
    pair: tuple
    items: list
    inner: _Inner


def _example(rng):
    return _Outer(
        points=rng.normal(size=(5, 3)),
        labels=np.array(["fixed_point", "chaotic", "periodic", "x", ""]),
        count=7, tol=float("nan"), name="demo", flag=True, missing=None,
        options={"k": 3, "inf": float("inf"), "arr": np.arange(4)},
        pair=(1, "two", np.eye(2)),
        items=[np.zeros(0), {"nested": [1.5, None]}],
        inner=_Inner(values=np.array([[1, 2], [3, 4]], dtype=np.int32), note="é ünïcode"),
    )


def test_round_trip_is_exact(tmp_path, rng):
    res = _example(rng)
    path = res.save(tmp_path / "sub" / "res")
    assert path.name == "res.npz" and path.exists()
    back = _Outer.load(path)
    assert results_equal(res, back)
    assert back.labels.dtype.kind == "U"
    assert isinstance(back.pair, tuple) and isinstance(back.inner, _Inner)
    assert np.isinf(back.options["inf"]) and np.isnan(back.tol)
    # loading without the suffix works too, and Result.load accepts any registered class
    assert results_equal(Result.load(tmp_path / "sub" / "res"), res)


def test_results_equal_sees_differences(rng):
    a = _example(rng)
    b = dataclasses.replace(a, points=a.points + 1e-12)
    assert results_equal(a, a) and not results_equal(a, b)
    assert not results_equal(a, dataclasses.replace(a, name="other"))


def test_no_temporary_files_left_and_overwrite(tmp_path, rng):
    res = _example(rng)
    res.save(tmp_path / "r.npz")
    res.save(tmp_path / "r.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.npz"]


def test_truncated_file(tmp_path, rng):
    path = _example(rng).save(tmp_path / "r.npz")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ResultFileError, match="truncated or corrupted"):
        _Outer.load(path)


def test_corrupted_member(tmp_path, rng):
    path = _example(rng).save(tmp_path / "r.npz")
    bad = tmp_path / "bad.npz"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            payload = src.read(info.filename)
            if info.filename.endswith(".npy"):
                payload = payload[:20]
            dst.writestr(info.filename, payload)
    with pytest.raises(ResultFileError):
        _Outer.load(bad)


def test_garbage_missing_foreign_and_future(tmp_path, rng):
    (tmp_path / "g.npz").write_bytes(b"not a zip file at all")
    with pytest.raises(ResultFileError, match="truncated or corrupted"):
        _Outer.load(tmp_path / "g.npz")
    with pytest.raises(ResultFileError, match="no result file"):
        _Outer.load(tmp_path / "absent.npz")
    path = _example(rng).save(tmp_path / "r.npz")
    with pytest.raises(ResultFileError, match="holds a _Outer, not a _Inner"):
        _Inner.load(path)
    for meta, pattern in (({"format": "other"}, "not an attractorkit result"),
                          ({"format": "attractorkit-result", "schema_version": 999},
                           "schema version 999")):
        f = tmp_path / "m.npz"
        with zipfile.ZipFile(f, "w") as zf:
            zf.writestr("meta.json", json.dumps(meta))
        with pytest.raises(ResultFileError, match=pattern):
            _Outer.load(f)


def test_object_arrays_are_refused(tmp_path):
    res = _Inner(values=np.array([object(), 1], dtype=object), note="x")
    with pytest.raises(ValidationError, match="object arrays"):
        res.save(tmp_path / "o.npz")
    assert not any(tmp_path.iterdir())


def test_summary_names_fields(rng):
    text = _example(rng).summary()
    assert "_Outer" in text and "points: array (5, 3) float64" in text and "inner: _Inner" in text


@settings(max_examples=25, deadline=None)
@given(arr=hnp.arrays(dtype=st.sampled_from([np.float64, np.int64, np.bool_, np.float32]),
                      shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4)),
       note=st.text(max_size=20))
def test_round_trip_property(tmp_path_factory, arr, note):
    res = _Inner(values=arr, note=note)
    path = res.save(tmp_path_factory.mktemp("h") / "r")
    assert results_equal(_Inner.load(path), res)


def test_zero_dim_array_keeps_its_shape(tmp_path):
    res = _Inner(values=np.array(2.5), note="")
    assert _Inner.load(res.save(tmp_path / "z")).values.shape == ()


def test_integer_states_are_refused_with_a_clear_message():
    from attractorkit import adapters

    model = adapters.VanillaRNN(np.eye(3) * 0.5)
    with pytest.raises(ValidationError, match=r"h: expected real .*integer dtype"):
        model.step(np.zeros((2, 3), dtype=int), np.zeros((2, 0)))


def test_damaged_deflate_stream_is_a_result_file_error(tmp_path):
    """Regression: a corrupted compressed member used to escape as a raw zlib.error."""
    res = _Inner(values=np.linspace(0.0, 1.0, 4000), note="x")
    path = res.save(tmp_path / "d")
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("values.npy")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start + 10, start + min(info.compress_size, 400), 7):
        raw[i] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(ResultFileError, match="truncated or corrupted"):
        _Inner.load(path)


@pytest.mark.parametrize("offset,value", [(10, 0x5A5A), (8, 0x0001)])
def test_damaged_central_header_is_a_result_file_error(tmp_path, offset, value):
    """Regression: a damaged compression method (zipfile: NotImplementedError) or a set
    'encrypted' flag (RuntimeError) in a member's central-directory entry escaped raw."""
    import struct

    path = _Inner(values=np.linspace(0.0, 1.0, 4000), note="x").save(tmp_path / "h")
    raw = bytearray(path.read_bytes())
    at = raw.index(b"PK\x01\x02", raw.index(b"PK\x01\x02") + 4)  # a member after meta.json
    raw[at + offset:at + offset + 2] = struct.pack("<H", value)
    path.write_bytes(bytes(raw))
    with pytest.raises(ResultFileError, match="truncated or corrupted"):
        _Inner.load(path)


def test_atomic_path_leaves_nothing_half_written(tmp_path):
    from attractorkit.core._results import atomic_path

    target = tmp_path / "sub" / "file.txt"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("crash mid-write")
    assert not target.exists() and list(target.parent.iterdir()) == []
    with atomic_path(target) as tmp:
        tmp.write_text("whole")
    assert target.read_text() == "whole" and list(target.parent.iterdir()) == [target]
    assert target.stat().st_mode & 0o777 == 0o644
