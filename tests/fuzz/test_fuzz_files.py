"""Fuzz: damaged result files and model files are refused with a ResultFileError /
ModelFileError, never a raw zipfile, zlib, numpy or JSON error."""

import dataclasses
import io
import json
import zipfile

import numpy as np
from hostile import call, profiles
from hypothesis import given
from hypothesis import strategies as st

import attractorkit as ak
from attractorkit import Result
from attractorkit.adapters import load_model, save_model_files


@dataclasses.dataclass(frozen=True, eq=False)
class _Fuzzed(Result):
    values: np.ndarray
    labels: np.ndarray
    note: str


def _result_bytes(tmp_path):
    res = _Fuzzed(values=np.linspace(0, 1, 300).reshape(100, 3),
                  labels=np.array(["a", "bb", "ccc"]), note="n")
    return res.save(tmp_path / "r.npz").read_bytes()


def _damage(data: bytes, edits) -> bytes:
    raw = bytearray(data)
    for kind, at, value in edits:
        i = at % max(1, len(raw))
        if kind == "flip" and raw:
            raw[i] ^= value or 1
        elif kind == "cut":
            raw = raw[:i]
        elif kind == "insert":
            raw[i:i] = bytes([value]) * 3
    return bytes(raw)


EDITS = st.lists(st.tuples(st.sampled_from(["flip", "cut", "insert"]),
                           st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=4)


@profiles(40)
def test_damaged_result_files(profile, tmp_path_factory):
    base = _result_bytes(tmp_path_factory.mktemp("base"))
    where = tmp_path_factory.mktemp("damaged") / "d.npz"

    @profile
    @given(edits=EDITS)
    def run(edits):
        where.write_bytes(_damage(base, edits))
        call(_Fuzzed.load, where)

    run()


def _zip(members: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, payload in members.items():
            zf.writestr(name, payload)
    return buf.getvalue()


def _npy(arr) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(arr), allow_pickle=False)
    return buf.getvalue()


META = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["__array__", "__result__", "__tuple__", "__dict__", "__float__",
                         "fields", "x"]), inner, max_size=3),
    max_leaves=10)


@profiles(40)
def test_hostile_metadata(profile, tmp_path_factory):
    where = tmp_path_factory.mktemp("meta") / "m.npz"

    @profile
    @given(root=META, fields=st.dictionaries(st.sampled_from(["values", "labels", "note", "y"]),
                                             META, max_size=3))
    def run(root, fields):
        for top in (root, {"__result__": "_Fuzzed", "fields": fields}):
            meta = {"format": "attractorkit-result", "schema_version": 1, "root": top}
            where.write_bytes(_zip({"meta.json": json.dumps(meta),
                                    "values.npy": _npy(np.zeros((2, 3))),
                                    "x.npy": b"\x93NUMPY garbage"}))
            call(_Fuzzed.load, where)
            call(ak.Analysis.load, where)

    run()


@profiles(25)
def test_hostile_model_files(profile, tmp_path_factory):
    d = tmp_path_factory.mktemp("model")
    good = save_model_files(d / "rnn.npz", {"W": 0.5 * np.eye(3), "U": np.ones((3, 2))},
                            {"cell": "vanilla"})
    base = good.read_bytes()
    spec = d / "rnn.json"

    @profile
    @given(edits=EDITS, spec_text=st.sampled_from(['{"cell": "vanilla"}', "{", "[]", "null",
                                                    '{"cell": "lstm"}', '{"cell": 3}',
                                                    '{"cell": "vanilla", "n_hidden": -1}']))
    def run(edits, spec_text):
        good.write_bytes(_damage(base, edits))
        spec.write_text(spec_text)
        call(load_model, good)

    run()
