"""Model files for the CLI: weights + JSON spec, PyTorch state_dicts, and refusal of pickles."""

import json
import pathlib
import pickle

import numpy as np
import pytest

from attractorkit import ValidationError
from attractorkit.adapters import ModelFileError, load_model, save_model_files

torch = pytest.importorskip("torch")


def _states(model, rng, B=4):
    return rng.standard_normal((B, model.n_state)) * 0.5, rng.standard_normal((B, model.n_input))


@pytest.mark.parametrize("kind,layers", [("RNN", 1), ("RNN", 2), ("GRU", 1), ("LSTM", 2)])
def test_torch_state_dict_matches_module(tmp_path, rng, kind, layers):
    torch.manual_seed(0)
    module = getattr(torch.nn, kind)(3, 5, num_layers=layers).double()
    path = tmp_path / "m.pt"
    torch.save(module.state_dict(), path)
    model = load_model(path)
    assert model.n_input == 3
    h, x = _states(model, rng)
    nxt = model.step(h, x)
    if kind == "LSTM":
        hh, cc = model.unflatten_state(h)
        _, (h1, c1) = module(torch.tensor(x)[None], (torch.tensor(hh), torch.tensor(cc)))
        ref = model.flatten_state((h1.detach().numpy(), c1.detach().numpy()))
    else:
        h0 = torch.tensor(h.reshape(4, layers, 5).transpose(1, 0, 2).copy())
        _, h1 = module(torch.tensor(x)[None], h0)
        ref = h1.detach().numpy().transpose(1, 0, 2).reshape(4, -1)
    np.testing.assert_allclose(nxt, ref, atol=1e-12)


def test_relu_rnn_needs_spec_activation(tmp_path, rng):
    module = torch.nn.RNN(2, 4, nonlinearity="relu").double()
    torch.save(module.state_dict(), tmp_path / "m.pt")
    (tmp_path / "m.json").write_text(json.dumps({"activation": "relu"}))
    model = load_model(tmp_path / "m.pt")
    h, x = _states(model, rng)
    _, h1 = module(torch.tensor(x)[None], torch.tensor(h)[None])
    np.testing.assert_allclose(model.step(h, x), h1[0].detach().numpy(), atol=1e-12)


@pytest.mark.parametrize("suffix", [".safetensors", ".npz"])
def test_weights_with_spec_round_trip(tmp_path, rng, suffix):
    W, U, b = rng.standard_normal((6, 6)) * 0.3, rng.standard_normal((6, 2)), rng.standard_normal(6)
    path = save_model_files(tmp_path / f"m{suffix}", {"W": W, "U": U, "b": b},
                            {"cell": "vanilla", "activation": "relu", "alpha": 0.5})
    model = load_model(path)
    h, x = _states(model, rng)
    ref = 0.5 * h + 0.5 * np.maximum(h @ W.T + x @ U.T + b, 0)
    np.testing.assert_allclose(model.step(h, x), ref, atol=1e-12)


def test_prefixed_torch_names_in_safetensors(tmp_path, rng):
    gru = torch.nn.GRU(2, 3).double()
    weights = {f"encoder.rnn.{k}": v.detach().numpy() for k, v in gru.state_dict().items()}
    weights["decoder.weight"] = np.ones((1, 3))
    path = save_model_files(tmp_path / "m.safetensors", weights, {"cell": "gru", "n_hidden": 3})
    assert load_model(path).n_state == 3


def test_missing_file_unknown_format_and_missing_spec(tmp_path):
    with pytest.raises(ModelFileError, match="no such model file"):
        load_model(tmp_path / "nope.pt")
    (tmp_path / "m.onnx").write_bytes(b"xx")
    with pytest.raises(ModelFileError, match="unknown model format '.onnx'"):
        load_model(tmp_path / "m.onnx")
    np.savez(tmp_path / "w.npz", W=np.eye(2))
    with pytest.raises(ModelFileError, match="needs a JSON spec"):
        load_model(tmp_path / "w.npz")


def test_mismatched_specs_are_refused(tmp_path):
    lstm = torch.nn.LSTM(2, 3)
    torch.save(lstm.state_dict(), tmp_path / "m.pt")
    with pytest.raises(ModelFileError, match="spec says cell 'gru'.*lstm cell"):
        load_model(tmp_path / "m.pt", spec={"cell": "gru"})
    with pytest.raises(ModelFileError, match="n_hidden=8 but the weights have n_hidden=3"):
        load_model(tmp_path / "m.pt", spec={"n_hidden": 8})
    with pytest.raises(ModelFileError, match="unknown spec key"):
        load_model(tmp_path / "m.pt", spec={"celltype": "lstm"})
    with pytest.raises(ModelFileError, match="vanilla cells only"):
        load_model(tmp_path / "m.pt", spec={"activation": "relu"})
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ModelFileError, match="not a valid JSON spec"):
        load_model(tmp_path / "m.pt", spec=tmp_path / "bad.json")


def test_corrupted_weight_files(tmp_path):
    (tmp_path / "m.safetensors").write_bytes(b"\x10\x00\x00\x00garbage")
    with pytest.raises(ModelFileError, match="not a readable safetensors"):
        load_model(tmp_path / "m.safetensors", spec={"cell": "vanilla"})
    (tmp_path / "m.pt").write_bytes(b"PK\x03\x04truncated")
    with pytest.raises(ModelFileError, match="refused"):
        load_model(tmp_path / "m.pt")


class _Payload:
    """Unpickling this object would create a file (the classic pickle attack)."""

    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.target),))


@pytest.mark.parametrize("writer", ["torch", "pickle"])
@pytest.mark.parametrize("suffix", [".pt", ".pth", ".ckpt", ".npz"])
def test_pickle_payload_is_refused_and_creates_nothing(tmp_path, writer, suffix):
    target = tmp_path / "pwned.txt"
    good = torch.nn.RNN(2, 3).state_dict()
    payload = {**good, "extra": _Payload(target)}
    path = tmp_path / f"checkpoint{suffix}"
    if writer == "torch":
        torch.save(payload, path)
    else:
        with open(path, "wb") as fh:
            pickle.dump(payload, fh)
    spec = {"cell": "vanilla"} if suffix == ".npz" else None
    with pytest.raises(ModelFileError, match="refused|pickled data is never loaded") as info:
        load_model(path, spec=spec)
    assert "\n" not in str(info.value)
    assert not target.exists()
    # the payload is real: an unrestricted load would have created the file
    if writer == "pickle":
        with open(path, "rb") as fh:
            pickle.load(fh)  # noqa: S301 - proves the test's payload works
        assert target.exists()


def test_npz_weights_are_bounded_before_decompressing(tmp_path, monkeypatch):
    """An .npz of weights that inflates beyond the memory budget is a ModelFileError, refused
    from the sizes in its headers."""
    import io
    import json
    import zipfile

    monkeypatch.setenv("ATTRACTORKIT_MEMORY_BUDGET", "16MiB")
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False,
                                               "shape": (2048, 2048)})
    with zipfile.ZipFile(tmp_path / "w.npz", "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("W.npy", "w", force_zip64=True) as fh:
            fh.write(buf.getvalue())
            for _ in range(32):
                fh.write(bytes(2**20))
    (tmp_path / "w.json").write_text(json.dumps({"cell": "vanilla"}))
    with pytest.raises(ModelFileError, match="ceiling of 16 MiB"):
        load_model(tmp_path / "w.npz")


def test_save_model_files_uses_the_safe_writer(tmp_path):
    import os

    victim = tmp_path / "victim"
    victim.write_text("precious")
    os.symlink(victim, tmp_path / "m.json")
    path = save_model_files(tmp_path / "m.npz", {"W": np.eye(2)}, {"cell": "vanilla"})
    assert victim.read_text() == "precious" and not (tmp_path / "m.json").is_symlink()
    assert load_model(path).n_state == 2
    with pytest.raises(ValidationError, match="weights: expected a dict"):
        save_model_files(tmp_path / "x.npz", {1: np.eye(2)})
