"""Model files for the command line: weights plus a small JSON spec, never an arbitrary pickle.

Three kinds of file are read:

* ``.safetensors`` or ``.npz`` weights with a JSON spec (``--spec FILE``, or a sidecar file with
  the same stem and the suffix ``.json``);
* a PyTorch ``state_dict`` of ``nn.RNN`` / ``nn.GRU`` / ``nn.LSTM`` saved with ``torch.save``
  (``.pt``, ``.pth``, ``.ckpt``, ``.bin``), read with ``torch.load(weights_only=True)`` so that no
  code in the file is ever executed; the spec is optional (the cell type follows from the
  weight shapes, a vanilla RNN is ``tanh`` unless the spec says ``"relu"``).

Weight names are PyTorch's (``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``,
then ``_l1``... for stacked layers), optionally behind a prefix such as ``"rnn."``; a vanilla
RNN may also use ``W``, ``U``, ``b`` (``h' = phi(W h + U x + b)``).

The spec is a JSON object::

    {"cell": "vanilla" | "gru" | "lstm",      # required for .safetensors / .npz
     "activation": "tanh",                    # vanilla only: tanh, relu, softplus, ...
     "alpha": 1.0, "time": "discrete", "dt": null,   # vanilla only (leak, map or flow)
     "prefix": "rnn.",                        # optional; found automatically when unique
     "n_input": 3, "n_hidden": 64, "n_layers": 1}    # optional checks against the weights
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from ..core._archive import load_npz
from ..core._errors import ValidationError
from ..core._files import atomic_path, check_name, output_dir, write_bytes, write_text
from ..core._validation import as_float_array

__all__ = ["ModelFileError", "load_model", "read_spec", "save_model_files"]

WEIGHT_SUFFIXES = (".safetensors", ".npz")
TORCH_SUFFIXES = (".pt", ".pth", ".ckpt", ".bin")
_SPEC_KEYS = {"cell", "activation", "alpha", "time", "dt", "prefix", "n_input", "n_hidden",
              "n_layers", "key"}
_GATES = {"vanilla": 1, "gru": 3, "lstm": 4}
_TORCH_NAME = re.compile(r"^(?P<prefix>.*?)(?P<kind>weight_ih|weight_hh|bias_ih|bias_hh)_l"
                         r"(?P<layer>\d+)$")


class ModelFileError(ValidationError):
    """A model file is missing, of an unknown format, unreadable, unsafe or inconsistent with
    its spec. The message is one line that names the file."""


def load_model(path, *, spec=None):
    """Read a model file (see the module docstring) and return an attractorkit Model.

    Parameters
    ----------
    path : str or Path
        ``.safetensors``, ``.npz``, or a PyTorch state_dict (``.pt``, ``.pth``, ``.ckpt``,
        ``.bin``).
    spec : dict, str, Path or None
        The JSON spec, a path to it, or None to use ``<stem>.json`` next to the weights when it
        exists.

    Returns
    -------
    model : Model
        A kernel model (:class:`attractorkit.adapters.VanillaRNN`, ``GRU`` or ``LSTM``).

    Raises
    ------
    ModelFileError
        On a missing file, an unknown format, a file that is not what its suffix says, a
        checkpoint that is not a plain state_dict (pickled code is refused, never run), or
        weights that do not match the spec.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    suffix = path.suffix.lower()
    if suffix not in WEIGHT_SUFFIXES + TORCH_SUFFIXES:
        raise ModelFileError(
            f"{path}: unknown model format {path.suffix or '(no suffix)'!r}; expected "
            ".safetensors or .npz weights with a JSON spec, or a PyTorch state_dict "
            "(.pt, .pth, .ckpt, .bin)"
        )
    spec = read_spec(path, spec, required=suffix in WEIGHT_SUFFIXES)
    if suffix == ".safetensors":
        weights = _read_safetensors(path)
    elif suffix == ".npz":
        weights = _read_npz(path)
    else:
        weights = _read_torch(path, spec.get("key"))
    return build_model(weights, spec, source=str(path))


def read_spec(path: Path, spec, *, required: bool) -> dict:
    """The spec as a validated dict (from a dict, a JSON file, or the sidecar ``<stem>.json``)."""
    where = "spec"
    if spec is None:
        sidecar = path.with_suffix(".json")
        if sidecar.is_file():
            spec = sidecar
        elif required:
            raise ModelFileError(
                f"{path}: a {path.suffix} file needs a JSON spec (pass --spec FILE or put "
                f"{sidecar.name} next to it), e.g. {{\"cell\": \"vanilla\", \"activation\": "
                "\"tanh\"}"
            )
        else:
            return {}
    if isinstance(spec, (str, Path)):
        where = str(spec)
        spec_path = Path(spec)
        if not spec_path.is_file():
            raise ModelFileError(f"{spec_path}: no such spec file")
        try:
            spec = json.loads(spec_path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelFileError(f"{spec_path}: not a valid JSON spec ({exc})") from None
    if not isinstance(spec, dict):
        raise ModelFileError(f"{where}: expected a JSON object, received {type(spec).__name__}")
    unknown = sorted(set(spec) - _SPEC_KEYS)
    if unknown:
        raise ModelFileError(
            f"{where}: unknown spec key(s) {', '.join(unknown)}; known keys: "
            f"{', '.join(sorted(_SPEC_KEYS))}"
        )
    if required and "cell" not in spec:
        raise ModelFileError(f"{where}: the spec must name the cell (\"vanilla\", \"gru\" or "
                             "\"lstm\")")
    if "cell" in spec and spec["cell"] not in _GATES:
        raise ModelFileError(
            f"{where}: cell must be one of vanilla, gru, lstm, received {spec['cell']!r}"
        )
    return dict(spec)


# -- readers -----------------------------------------------------------------------------------
def _read_safetensors(path: Path) -> dict:
    try:
        from safetensors.numpy import load_file
    except ImportError:  # pragma: no cover - safetensors is a dependency of the torch extra
        from ..core._errors import MissingDependencyError

        raise MissingDependencyError(
            "reading .safetensors needs the 'safetensors' package: pip install "
            "'attractorkit[torch]'"
        ) from None
    try:
        return dict(load_file(str(path)))
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own error types
        raise ModelFileError(
            f"{path}: not a readable safetensors file ({_one_line(exc)})"
        ) from None


def _read_npz(path: Path) -> dict:
    """Named weights; sizes checked before anything is decompressed (core.load_npz)."""
    try:
        return load_npz(path, argument="model")
    except ValidationError as exc:  # its message names the file and what is wrong
        raise ModelFileError(f"{_one_line(exc).removeprefix('model: ')} (an npz archive of "
                             "weights is expected; pickled data is never loaded)") from None


def _read_torch(path: Path, key) -> dict:
    try:
        import torch
    except ImportError:
        from ..core._errors import MissingDependencyError

        raise MissingDependencyError(
            f"{path}: reading a PyTorch checkpoint needs torch: pip install 'attractorkit[torch]'"
            "; or export the weights to .safetensors or .npz with a JSON spec"
        ) from None
    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - UnpicklingError, RuntimeError, EOFError...
        raise ModelFileError(
            f"{path}: refused: not a plain PyTorch state_dict that loads with weights_only=True "
            f"(arbitrary pickled objects are never executed; save model.state_dict() instead) "
            f"({_one_line(exc)})"
        ) from None
    if key is not None:
        if not isinstance(obj, dict):
            raise ModelFileError(f"{path}: the spec's key {key!r} needs a checkpoint that is a "
                                 f"dict; this one holds a {type(obj).__name__}")
        if key not in obj:
            raise ModelFileError(f"{path}: the spec's key {key!r} is not in the checkpoint; "
                                 f"its keys are {_keys(obj)}")
        obj = obj[key]
    elif isinstance(obj, dict) and obj and not any(torch.is_tensor(v) for v in obj.values()):
        nested = [k for k in ("state_dict", "model_state_dict", "model") if
                  isinstance(obj.get(k), dict)]
        if not nested:
            raise ModelFileError(
                f"{path}: the checkpoint holds no tensors at its top level and none of "
                f"state_dict, model_state_dict, model; its keys are {_keys(obj)}; name the "
                "entry that holds the state_dict with the spec's \"key\"")
        obj = obj[nested[0]]
    if not isinstance(obj, dict):
        raise ModelFileError(
            f"{path}: expected a state_dict (a dict of tensors), received {type(obj).__name__}"
        )
    out = {}
    for name, value in obj.items():
        if torch.is_tensor(value):
            out[str(name)] = value.detach().to("cpu", torch.float64).numpy()
    return out


# -- building the model ------------------------------------------------------------------------
def build_model(weights: dict, spec: dict, *, source: str = "weights"):
    """Weights (name -> array) and a spec -> a kernel model, checking they agree."""
    layers, prefix = _torch_layers(weights, spec.get("prefix"), source)
    if layers is None:
        if "W" in weights and spec.get("cell", "vanilla") == "vanilla":
            W = weights["W"]
            n = W.shape[0] if W.ndim == 2 else 0
            layers = [{
                "weight_hh": W,
                "weight_ih": weights.get("U", np.zeros((n, 0))),
                "bias_hh": weights.get("b"),
                "bias_ih": None,
            }]
        else:
            names = ", ".join(sorted(weights)[:8]) or "(none)"
            raise ModelFileError(
                f"{source}: found no recurrent weights: expected PyTorch names weight_ih_l0, "
                f"weight_hh_l0, bias_ih_l0, bias_hh_l0 (or W, U, b for a vanilla RNN), "
                f"received {names}"
            )
    cell = _cell_from_shapes(layers, spec, source)
    _check_spec_sizes(layers, cell, spec, source)
    from attractorkit import adapters

    args = [[layer[k] for layer in layers] for k in ("weight_ih", "weight_hh", "bias_ih",
                                                     "bias_hh")]
    args = [a[0] if len(layers) == 1 else a for a in args]
    try:
        if cell == "gru":
            return adapters.GRU(*args)
        if cell == "lstm":
            return adapters.LSTM(*args)
        return _vanilla(layers, args, spec)
    except ValidationError as exc:
        raise ModelFileError(f"{source}: weights do not form a {cell} model: "
                             f"{_one_line(exc)}") from None


def _vanilla(layers, args, spec):
    from attractorkit import adapters

    activation = spec.get("activation", "tanh")
    alpha, time, dt = spec.get("alpha"), spec.get("time", "discrete"), spec.get("dt")
    if len(layers) == 1:
        L = layers[0]
        b = None
        if L["bias_hh"] is not None or L["bias_ih"] is not None:
            n = L["weight_hh"].shape[0]
            b = sum(np.asarray(v, dtype=np.float64) if v is not None else np.zeros(n)
                    for v in (L["bias_hh"], L["bias_ih"]))
        return adapters.VanillaRNN(L["weight_hh"], L["weight_ih"], b, activation=activation,
                                   alpha=alpha, time=time, dt=dt)
    from attractorkit.adapters._layers import layered_spec
    from attractorkit.core._model import KernelModel

    spec_ = layered_spec("vanilla", *args, activation=activation, time=time,
                         alpha=1.0 if alpha is None else alpha)
    return KernelModel(spec_, dt=dt)


def _torch_layers(weights: dict, prefix, source: str):
    groups: dict[str, dict[int, dict]] = {}
    for name, arr in weights.items():
        m = _TORCH_NAME.match(name)
        if m:
            groups.setdefault(m["prefix"], {}).setdefault(int(m["layer"]), {})[m["kind"]] = arr
    if prefix is not None:
        if prefix not in groups:
            raise ModelFileError(f"{source}: no weights named {prefix}weight_hh_l0 (the spec's "
                                 f"prefix is {prefix!r})")
        chosen = prefix
    elif not groups:
        return None, None
    elif len(groups) > 1:
        raise ModelFileError(
            f"{source}: several recurrent modules ({', '.join(repr(p) for p in sorted(groups))})"
            "; say which one with the spec's \"prefix\""
        )
    else:
        chosen = next(iter(groups))
    by_layer = groups[chosen]
    n_layers = max(by_layer) + 1
    layers = []
    for l in range(n_layers):
        entry = by_layer.get(l, {})
        for need in ("weight_ih", "weight_hh"):
            if need not in entry:
                raise ModelFileError(f"{source}: missing {chosen}{need}_l{l}")
        layers.append({k: entry.get(k) for k in ("weight_ih", "weight_hh", "bias_ih",
                                                 "bias_hh")})
    return layers, chosen


def _cell_from_shapes(layers, spec, source: str) -> str:
    Wh = np.asarray(layers[0]["weight_hh"])
    if Wh.ndim != 2 or Wh.shape[1] == 0 or Wh.shape[0] % Wh.shape[1]:
        raise ModelFileError(f"{source}: weight_hh has shape {Wh.shape}; expected "
                             "(gates * n_hidden, n_hidden)")
    gates = Wh.shape[0] // Wh.shape[1]
    inferred = {1: "vanilla", 3: "gru", 4: "lstm"}.get(gates)
    if inferred is None:
        raise ModelFileError(f"{source}: weight_hh has shape {Wh.shape}: {gates} gates fits "
                             "no vanilla (1), GRU (3) or LSTM (4) cell")
    cell = spec.get("cell", inferred)
    if cell != inferred:
        raise ModelFileError(
            f"{source}: the spec says cell {cell!r} but weight_hh of shape {Wh.shape} is a "
            f"{inferred} cell ({gates} gate block(s) of {Wh.shape[1]} units)"
        )
    if cell != "vanilla":
        extra = sorted(k for k in ("activation", "alpha", "time", "dt") if k in spec)
        if extra:
            raise ModelFileError(f"{source}: spec key(s) {', '.join(extra)} apply to vanilla "
                                 f"cells only, not to a {cell} cell")
    return cell


def _check_spec_sizes(layers, cell, spec, source: str) -> None:
    Wh, Wx = np.asarray(layers[0]["weight_hh"]), np.asarray(layers[0]["weight_ih"])
    actual = {"n_hidden": Wh.shape[1], "n_layers": len(layers),
              "n_input": Wx.shape[1] if Wx.ndim == 2 else -1}
    for key, value in actual.items():
        if key in spec and spec[key] != value:
            raise ModelFileError(
                f"{source}: the spec says {key}={spec[key]!r} but the weights have "
                f"{key}={value}"
            )


def save_model_files(path, weights: dict, spec: dict | None = None) -> Path:
    """Write ``weights`` (name -> array) to ``.safetensors`` or ``.npz`` plus ``<stem>.json``.

    The counterpart of :func:`load_model` for weights held in numpy; returns the weight path.
    """
    path = Path(path)
    if path.suffix not in WEIGHT_SUFFIXES:
        raise ValidationError(f"path: expected a .safetensors or .npz name, received {path}")
    name = check_name(path.name, what="path")
    directory = output_dir(path.parent, argument="path")
    if not isinstance(weights, dict) or not all(isinstance(k, str) for k in weights):
        raise ValidationError("weights: expected a dict of name (str) -> array, received "
                              f"{type(weights).__name__}")
    arrays = {k: as_float_array(f"weights[{k!r}]", v, finite=False) for k, v in weights.items()}
    if path.suffix == ".safetensors":
        from safetensors.numpy import save

        write_bytes(directory, name, save(arrays))
    else:
        with atomic_path(directory, name) as tmp:
            np.savez(tmp, **arrays)
    if spec is not None:
        write_text(directory, path.with_suffix(".json").name, json.dumps(spec, indent=1))
    return directory / name


def _keys(mapping, limit=20) -> str:
    """The keys of a checkpoint dict for a message: the first ``limit``, then how many more."""
    names = sorted(repr(k) for k in mapping)
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return (", ".join(names[:limit]) or "(none)") + more


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return (text[:300] + "...") if len(text) > 300 else text or type(exc).__name__
