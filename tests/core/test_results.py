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
from attractorkit.core import set_memory_budget


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


def test_save_replaces_a_link_and_never_writes_its_target(tmp_path):
    """Regression (issue 19): Result.save wrote through a symbolic link at its path."""
    import os

    victim = tmp_path / "victim.npz"
    victim.write_bytes(b"precious")
    os.symlink(victim, tmp_path / "r.npz")
    res = _Inner(values=np.arange(3.0), note="x")
    path = res.save(tmp_path / "r.npz")
    assert victim.read_bytes() == b"precious" and not path.is_symlink()
    assert results_equal(_Inner.load(path), res)


# -- bounded loading (issue 19, item 2) ----------------------------------------------------------
def _zip(path, members):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, payload in members.items():
            if isinstance(payload, (bytes, str)):
                zf.writestr(name, payload)
            else:  # an iterable of chunks, streamed (a member far larger than memory allows)
                with zf.open(name, "w", force_zip64=True) as fh:
                    for chunk in payload:
                        fh.write(chunk)
    return path


def _meta(fields, cls="_Inner"):
    return json.dumps({"format": "attractorkit-result", "schema_version": 1,
                       "root": {"__result__": cls, "fields": fields}})


def _npy_header(shape, dtype="<f8") -> bytes:
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": dtype, "fortran_order": False, "shape": tuple(shape)})
    return buf.getvalue()


def test_archive_bomb_is_refused_before_decompressing(tmp_path):
    """Regression (issue 19): a small file that inflates to gigabytes was loaded (2 GB+
    resident). The sizes are now checked before anything is inflated."""
    import tracemalloc

    n = 300 * 2**20 // 8                     # 300 MiB of zeros in a file of about 1.4 MB
    zeros = bytes(2**20)
    path = _zip(tmp_path / "bomb.npz", {
        "meta.json": _meta({"values": {"__array__": "values"}, "note": "x"}),
        "values.npy": [_npy_header((n,))] + [zeros] * 300})
    assert path.stat().st_size < 2 * 2**20
    tracemalloc.start()
    try:
        with pytest.raises(ResultFileError, match=r"300 MiB once decompressed from a 1\.\d+ MiB "
                                                  r"file, more than the ceiling of 256 MiB"):
            _Inner.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20


def test_max_bytes_sets_the_ceiling(tmp_path):
    res = _Inner(values=np.arange(1000.0), note="x")
    path = res.save(tmp_path / "r")
    with pytest.raises(ResultFileError, match=r"7\.81 KiB once decompressed .* max_bytes"):
        _Inner.load(path, max_bytes=4000)
    assert results_equal(_Inner.load(path, max_bytes=8000), res)
    with pytest.raises(ValidationError, match="max_bytes"):
        _Inner.load(path, max_bytes=-1)


def test_ceiling_follows_the_memory_budget_and_counts_every_reference(tmp_path):
    res = _Inner(values=np.arange(1000.0), note="x")
    path = res.save(tmp_path / "r")
    set_memory_budget(4000)
    try:
        with pytest.raises(ResultFileError, match="memory budget"):
            _Inner.load(path)
    finally:
        set_memory_budget(None)
    # one small array referred to 10,000 times would be read 10,000 times
    refs = [{"__array__": "values"}] * 10_000
    _zip(tmp_path / "many.npz", {
        "meta.json": json.dumps({"format": "attractorkit-result", "schema_version": 1,
                                 "root": {"__result__": "_Outer", "fields": {"items": refs}}}),
        "values.npy": _npy_header((10_000,)) + bytes(80_000)})
    with pytest.raises(ResultFileError, match="ceiling"):
        _Outer.load(tmp_path / "many.npz", max_bytes=10**8)


@pytest.mark.parametrize("header, payload, pattern", [
    (_npy_header((10,)), bytes(800), r"declares shape \(10,\) .* holds 800 bytes"),
    (_npy_header((10**6, 10**6)), bytes(80), "declares shape"),
    (_npy_header((4,), "|O"), bytes(32), "dtype object"),
    (_npy_header((4,), [("a", "<f8")]), bytes(32), "dtype"),
])
def test_headers_are_checked_against_member_sizes(tmp_path, header, payload, pattern):
    """Regression (issue 19): declared .npy shapes were not checked before reading."""
    path = _zip(tmp_path / "h.npz", {
        "meta.json": _meta({"values": {"__array__": "values"}, "note": "x"}),
        "values.npy": header + payload})
    with pytest.raises(ResultFileError, match=pattern):
        _Inner.load(path)


@pytest.mark.parametrize("fields, pattern", [
    ({"values": "not an array", "note": "x"}, "field 'values' must hold an array"),
    ({"note": "x"}, "field 'values' is missing"),
    ({"values": {"__array__": "absent"}, "note": "x"}, "array 'absent' is missing"),
    ({"values": {"__array__": "values"}, "note": {"__result__": "NoSuchResult", "fields": {}}},
     "unknown result class"),
])
def test_metadata_is_checked_against_the_class(tmp_path, fields, pattern):
    path = _zip(tmp_path / "s.npz", {"meta.json": _meta(fields),
                                     "values.npy": _npy_header((2,)) + bytes(16)})
    with pytest.raises(ResultFileError, match=pattern):
        _Inner.load(path)


@dataclasses.dataclass(frozen=True, eq=False)
class _Shaped(Result):
    array_shapes = {"points": ("n", "n_state"), "q": ("n",), "pair": (2, None)}
    points: np.ndarray
    q: np.ndarray
    pair: np.ndarray


def test_declared_array_shapes_are_checked_on_save_and_on_load(tmp_path):
    ok = _Shaped(points=np.zeros((3, 4)), q=np.zeros(3), pair=np.zeros((2, 7)))
    path = ok.save(tmp_path / "ok")
    assert results_equal(_Shaped.load(path), ok)
    with pytest.raises(ValidationError, match="n=2 does not match n=3"):
        _Shaped(points=np.zeros((3, 4)), q=np.zeros(2), pair=np.zeros((2, 7))).save(tmp_path / "x")
    with pytest.raises(ValidationError, match=r"pair: expected shape \(2, any\)"):
        _Shaped(points=np.zeros((3, 4)), q=np.zeros(3), pair=np.zeros((3, 7))).save(tmp_path / "x")
    fields = {"points": {"__array__": "points"}, "q": {"__array__": "q"},
              "pair": {"__array__": "pair"}}
    _zip(tmp_path / "bad.npz", {"meta.json": _meta(fields, "_Shaped"),
                                "points.npy": _npy_header((3, 4)) + bytes(96),
                                "q.npy": _npy_header((5,)) + bytes(40),
                                "pair.npy": _npy_header((2, 1)) + bytes(16)})
    with pytest.raises(ResultFileError, match="q: n=5 does not match n=3"):
        _Shaped.load(tmp_path / "bad.npz")


def test_oversized_metadata_is_refused_unread(tmp_path):
    big = " " * (65 * 2**20)
    path = _zip(tmp_path / "m.npz", {"meta.json": big})
    with pytest.raises(ResultFileError, match="meta.json declares"):
        _Inner.load(path)
