"""Shared helpers of the standard-cell adapters: weight checks, layer lowering, state layout.

The flat state of a stacked cell is the layers' hidden states one after the other; an LSTM's is
all h layer by layer, then all c layer by layer. Framework states follow PyTorch's layout
``(n_layers, batch, n_hidden)`` (or ``(n_layers, n_hidden)`` for one unbatched state).
"""

from __future__ import annotations

import numpy as np

from attractorkit.core import KernelSpec, ValidationError, as_float_array

GATES = {"vanilla": 1, "gru": 3, "lstm": 4}


def as_weight(name: str, w, *, ndim=None, shape=None) -> np.ndarray:
    """A weight array as C-contiguous float64.

    Integer and boolean weights are refused (they are almost always a mistake such as integer
    division or a mask passed by accident); complex weights are refused; NaN/Inf are refused.
    """
    if hasattr(w, "detach") and hasattr(w, "cpu"):       # a torch tensor, maybe with grad
        w = w.detach().cpu().numpy()
    try:
        raw = w if isinstance(w, np.ndarray) else np.asarray(w) if w is not None else None
    except (ValueError, TypeError):  # ragged nesting: as_float_array below names the problem
        raw = None
    if raw is not None and raw.dtype.kind in "iub":
        raise ValidationError(
            f"{name}: expected floating-point weights, received dtype {raw.dtype}; convert "
            f"explicitly (np.asarray({name}, dtype=float)) if the integer values are intended"
        )
    return as_float_array(name, w, ndim=ndim, shape=shape)


def layered_spec(cell: str, weight_ih, weight_hh, bias_ih=None, bias_hh=None, *,
                 activation: str = "tanh", time: str = "discrete", alpha: float = 1.0,
                 names: tuple[str, str, str, str] = ("weight_ih", "weight_hh", "bias_ih",
                                                     "bias_hh")) -> KernelSpec:
    """Lower PyTorch-layout layer weights to a :class:`KernelSpec`.

    ``weight_ih[l]`` is (G*H, I) for l = 0 and (G*H, H) above; ``weight_hh[l]`` is (G*H, H);
    biases are (G*H,) or None (zeros). Each argument is one array (one layer) or a list of
    arrays (one per layer).
    """
    n_ih, n_hh, n_bi, n_bh = names
    w_ih = _layers_of(weight_ih, 2)
    w_hh = _layers_of(weight_hh, 2)
    L = len(w_hh)
    if L == 0 or len(w_ih) != L:
        raise ValidationError(
            f"{n_ih}, {n_hh}: expected one array per layer (the same number of each), received "
            f"{len(w_ih)} and {len(w_hh)}"
        )
    G = GATES[cell]
    Whs, Wxs = [], []
    for l in range(L):
        tag = f"[{l}]" if L > 1 else ""
        Wh = as_weight(f"{n_hh}{tag}", w_hh[l], ndim=2)
        H = Wh.shape[1]
        if Wh.shape != (G * H, H):
            raise ValidationError(
                f"{n_hh}{tag}: expected shape ({G} * n_hidden, n_hidden) for a {cell} cell, "
                f"received {Wh.shape}"
            )
        if l > 0 and H != Whs[0].shape[1]:
            raise ValidationError(
                f"{n_hh}{tag}: every layer must have n_hidden={Whs[0].shape[1]}, received "
                f"shape {Wh.shape}"
            )
        Wx = as_weight(f"{n_ih}{tag}", w_ih[l], ndim=2)
        if Wx.shape[0] != G * H or (l > 0 and Wx.shape[1] != H):
            want = f"({G * H}, n_input)" if l == 0 else f"({G * H}, {H})"
            raise ValidationError(f"{n_ih}{tag}: expected shape {want}, received {Wx.shape}")
        Whs.append(Wh)
        Wxs.append(Wx)
    H = Whs[0].shape[1]
    n_input = Wxs[0].shape[1]
    width = max(n_input, H) if L > 1 else n_input
    Wx_all = np.zeros((L, G * H, width))
    for l, Wx in enumerate(Wxs):
        Wx_all[l, :, :Wx.shape[1]] = Wx
    return KernelSpec(
        cell=cell, activation=activation, time=time, alpha=alpha,
        Wh=np.stack(Whs), Wx=Wx_all,
        bh=_biases(n_bh, bias_hh, L, G * H), bx=_biases(n_bi, bias_ih, L, G * H),
        n_input=n_input,
    )


def _layers_of(value, ndim: int) -> list:
    """A list of per-layer arrays (each of ``ndim`` dims) or one array -> list of layers."""
    if isinstance(value, (list, tuple)) and len(value) > 0 and all(
        v is None or np.ndim(v) == ndim for v in value
    ):
        return list(value)
    return [value]


def _biases(name: str, b, L: int, width: int) -> np.ndarray:
    if b is None:
        return np.zeros((L, width))
    items = _layers_of(b, 1)
    if len(items) != L:
        raise ValidationError(f"{name}: expected {L} arrays (one per layer), received {len(items)}")
    out = np.zeros((L, width))
    for l, v in enumerate(items):
        if v is not None:
            out[l] = as_weight(f"{name}[{l}]" if L > 1 else name, v, shape=(width,))
    return out


# -- state layout ------------------------------------------------------------------------------
def flatten_layers(name: str, h, n_layers: int, n_hidden: int) -> np.ndarray:
    """(L, B, H) or (L, H) -> (B, L*H), layer by layer."""
    arr = as_float_array(name, h, ndim=(2, 3))
    if arr.ndim == 2:
        arr = arr[:, None, :]
    if arr.shape[0] != n_layers or arr.shape[2] != n_hidden:
        raise ValidationError(
            f"{name}: expected shape (n_layers={n_layers}, batch, n_hidden={n_hidden}) or "
            f"({n_layers}, {n_hidden}), received {np.shape(h)}"
        )
    return np.ascontiguousarray(arr.transpose(1, 0, 2).reshape(arr.shape[1], -1))


def unflatten_layers(flat: np.ndarray, n_layers: int, n_hidden: int) -> np.ndarray:
    """(B, L*H) -> (L, B, H)."""
    B = flat.shape[0]
    return np.ascontiguousarray(flat.reshape(B, n_layers, n_hidden).transpose(1, 0, 2))


def flatten_state(cell: str, state, n_layers: int, n_hidden: int) -> np.ndarray:
    """A framework-layout state (``h``, or ``(h, c)`` for an LSTM) -> flat (B, n_state)."""
    if cell == "lstm":
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            raise ValidationError(
                f"state: expected a pair (h, c) for an LSTM, received {type(state).__name__}"
            )
        h = flatten_layers("state[0] (h)", state[0], n_layers, n_hidden)
        c = flatten_layers("state[1] (c)", state[1], n_layers, n_hidden)
        if h.shape != c.shape:
            raise ValidationError(
                f"state: h and c must have the same shape, received {np.shape(state[0])} and "
                f"{np.shape(state[1])}"
            )
        return np.concatenate([h, c], axis=1)
    return flatten_layers("state", state, n_layers, n_hidden)


def unflatten_state(cell: str, flat, n_layers: int, n_hidden: int):
    """Flat (B, n_state) or (n_state,) -> ``h`` (L, B, H), or ``(h, c)`` for an LSTM."""
    n = n_layers * n_hidden * (2 if cell == "lstm" else 1)
    arr = as_float_array("flat", flat, ndim=(1, 2))
    if arr.ndim == 1:
        arr = arr[None]
    if arr.shape[1] != n:
        raise ValidationError(
            f"flat: expected states of width n_state={n}, received shape {np.shape(flat)}"
        )
    if cell == "lstm":
        k = n_layers * n_hidden
        return (unflatten_layers(arr[:, :k], n_layers, n_hidden),
                unflatten_layers(arr[:, k:], n_layers, n_hidden))
    return unflatten_layers(arr, n_layers, n_hidden)
