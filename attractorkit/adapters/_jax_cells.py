"""The standard recurrent cells of Equinox and Flax, read as kernel descriptions.

Recognised (by exact class): Equinox ``eqx.nn.GRUCell`` and ``eqx.nn.LSTMCell`` (called
``cell(x, h)``; the LSTM's state is ``(h, c)``), and Flax's ``GRUCell``, ``LSTMCell`` and
``SimpleCell`` in both APIs, ``flax.linen`` (``cell.apply(params, carry, x)``) and
``flax.nnx`` (``cell(carry, x)``), which return ``(new_carry, output)``; the Flax LSTM's carry
is ``(c, h)``. Their weights are copied to float64 in PyTorch's layout (rows r, z, n for a GRU,
i, f, g, o for an LSTM), so they run on the numba kernels of :mod:`attractorkit._kernels`:

- Equinox GRU: ``n = tanh(W_in x + b_n + r (W_hn h + bias_n))`` is PyTorch's GRU with
  ``bias_hh = (0, 0, bias_n)``; ``h' = n + z (h - n) = (1 - z) n + z h``.
- Flax GRU: ``Dense`` kernels are (in, out), so ``W = kernel.T``; linen puts a bias on the
  input side of every gate and on ``hn``; NNX on the input side only.
- Flax LSTM: the bias sits on the hidden side (``bias_hh``); SimpleCell:
  ``h' = act(x K_i + b_i + h K_h (+ h if residual))``, a vanilla cell with ``W = K_h^T (+ I)``.

A cell with another gate or activation function (or another dtype policy we cannot read) is
not lowered: it runs as a JAX function with its framework's calling convention.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable

import numpy as np

from attractorkit.core import KernelSpec, ValidationError

from ._layers import layered_spec

__all__ = ["JaxCell", "describe_cell"]


@dataclasses.dataclass(frozen=True)
class JaxCell:
    """A recognised cell: its family, its kernel (None when it cannot be lowered) and its
    calling convention as a flat one-sample step ``step(h, x) -> h'``."""

    framework: str            # "equinox", "flax.linen" or "flax.nnx"
    name: str                 # "GRUCell", "LSTMCell" or "SimpleCell"
    cell: str                 # "gru", "lstm" or "vanilla"
    n_hidden: int
    n_input: int
    spec: KernelSpec | None
    step: Callable
    reason: str = ""          # why it was not lowered

    @property
    def n_state(self) -> int:
        return 2 * self.n_hidden if self.cell == "lstm" else self.n_hidden

    @property
    def carry_order(self) -> str:
        """The LSTM's state pair in the framework: "hc" (Equinox) or "ch" (Flax)."""
        return "hc" if self.framework == "equinox" else "ch"


def _classes():
    """{class: (framework, name)} of the recognised cells whose packages are imported."""
    out = {}
    eqx = sys.modules.get("equinox")
    if eqx is not None:
        for name in ("GRUCell", "LSTMCell"):
            out[getattr(eqx.nn, name)] = ("equinox", name)
    for mod, fw in (("flax.linen", "flax.linen"), ("flax.nnx", "flax.nnx")):
        m = sys.modules.get(mod)
        if m is not None:
            for name in ("GRUCell", "LSTMCell", "SimpleCell"):
                cls = getattr(m, name, None)
                if cls is not None:
                    out[cls] = (fw, name)
    return out


def describe_cell(obj, params=None) -> JaxCell | None:
    """A :class:`JaxCell` for a recognised Equinox / Flax cell (subclasses keep their base's
    calling convention but are not lowered), else None."""
    classes = _classes()
    hit = classes.get(type(obj))
    exact = hit is not None
    if hit is None:
        hit = next((v for c, v in classes.items() if isinstance(obj, c)), None)
        if hit is None:
            return None
    framework, name = hit
    if framework == "flax.linen":
        if params is None:
            raise ValidationError(
                f"params: a flax.linen {name} holds no weights; pass the variables returned by "
                f"cell.init(...) as params= (received none)")
        params = params.get("params", params) if hasattr(params, "get") else params
    elif params is not None:
        raise ValidationError(f"params: only flax.linen cells take params=; a {framework} "
                              f"{name} holds its own weights (received params)")
    read = {"equinox": _equinox, "flax.linen": _linen, "flax.nnx": _nnx}[framework]
    cell, act, weights, H, m = read(obj, name, params)
    step = _flat_step(obj, framework, cell, H, params)
    spec, reason = None, ""
    if not exact:
        reason = f"a subclass of {name} (its __call__ may differ)"
    elif act is None:
        reason = "its gate or activation functions are not the standard ones"
    else:
        spec = layered_spec(cell, *weights, activation=act,
                            names=(f"{name}.weight_ih", f"{name}.weight_hh",
                                   f"{name}.bias_ih", f"{name}.bias_hh"))
    return JaxCell(framework, name, cell, H, m, spec, step, reason)


def _np(a):
    """A JAX array, or an NNX variable holding one, as float64 numpy."""
    if type(a).__module__.startswith("flax"):
        a = a[...]
    return np.asarray(a, dtype=np.float64)


def _activation(fn, allowed=("tanh", "sigmoid", "relu")):
    import jax

    known = {"tanh": jax.numpy.tanh, "sigmoid": jax.nn.sigmoid, "relu": jax.nn.relu}
    for name in allowed:
        if fn is known[name]:
            return name
    return None


def _standard_gates(cell):
    return _activation(cell.gate_fn, ("sigmoid",)) == "sigmoid" and \
        _activation(cell.activation_fn, ("tanh",)) == "tanh"


def _equinox(cell, name, params):
    H, m = int(cell.hidden_size), int(cell.input_size)
    G = 3 if name == "GRUCell" else 4
    b = _np(cell.bias) if cell.use_bias else np.zeros(G * H)
    if name == "GRUCell":
        bn = _np(cell.bias_n) if cell.use_bias else np.zeros(H)
        weights = (_np(cell.weight_ih), _np(cell.weight_hh), b,
                   np.concatenate([np.zeros(2 * H), bn]))
        return "gru", "tanh", weights, H, m
    return "lstm", "tanh", (_np(cell.weight_ih), _np(cell.weight_hh), b, None), H, m


def _dense(p):
    """(W (out, in), bias or None) of a linen Dense's params."""
    return _np(p["kernel"]).T, (_np(p["bias"]) if "bias" in p else None)


def _linen(cell, name, params):
    try:
        if name == "GRUCell":
            i = [_dense(params[k]) for k in ("ir", "iz", "in")]
            h = [_dense(params[k]) for k in ("hr", "hz", "hn")]
        elif name == "LSTMCell":
            i = [_dense(params[k]) for k in ("ii", "if", "ig", "io")]
            h = [_dense(params[k]) for k in ("hi", "hf", "hg", "ho")]
        else:
            i, h = [_dense(params["i"])], [_dense(params["h"])]
    except (KeyError, TypeError) as exc:
        raise ValidationError(f"params: expected the variables of a flax.linen {name} "
                              f"(cell.init(...)), missing {exc}") from None
    return _assemble(cell, name, i, h)


def _nnx(cell, name, params):
    def lin(layer):
        bias = getattr(layer, "bias", None)
        return _np(layer.kernel).T, (None if bias is None else _np(bias))

    if name == "GRUCell":
        Wi, bi = lin(cell.dense_i)
        Wh, bh = lin(cell.dense_h)
        H = Wh.shape[1]
        i = [(Wi[k * H:(k + 1) * H], None if bi is None else bi[k * H:(k + 1) * H])
             for k in range(3)]
        h = [(Wh[k * H:(k + 1) * H], None if bh is None else bh[k * H:(k + 1) * H])
             for k in range(3)]
    elif name == "LSTMCell":
        i = [lin(getattr(cell, k)) for k in ("ii", "if_", "ig", "io")]
        h = [lin(getattr(cell, k)) for k in ("hi", "hf", "hg", "ho")]
    else:
        i, h = [lin(cell.dense_i)], [lin(cell.dense_h)]
    return _assemble(cell, name, i, h)


def _assemble(cell, name, i, h):
    """PyTorch-layout weights from per-gate (W, b) pairs of the input and hidden sides."""
    H, m = i[0][0].shape[0], i[0][0].shape[1]

    def stack(parts):
        return (np.concatenate([W for W, _ in parts]),
                np.concatenate([np.zeros(H) if b is None else b for _, b in parts]))

    W_ih, b_ih = stack(i)
    W_hh, b_hh = stack(h)
    if name == "SimpleCell":
        if getattr(cell, "residual", False):
            W_hh = W_hh + np.eye(H)
        return "vanilla", _activation(cell.activation_fn), (W_ih, W_hh, b_ih, b_hh), H, m
    kind = "gru" if name == "GRUCell" else "lstm"
    act = "tanh" if _standard_gates(cell) else None
    return kind, act, (W_ih, W_hh, b_ih, b_hh), H, m


def _flat_step(obj, framework, cell, H, params):
    """The cell as a one-sample function of the flat state: ``step(h, x) -> h'`` (LSTM:
    h = [h, c])."""
    import jax.numpy as jnp

    if framework == "flax.linen":
        variables = {"params": params}

        def call(carry, x):
            return obj.apply(variables, carry, x)[0]
    elif framework == "flax.nnx":
        def call(carry, x):
            return obj(carry, x)[0]
    else:
        def call(carry, x):
            return obj(x, carry)

    if cell != "lstm":
        return call
    if framework == "equinox":
        def step(h, x):
            hn, cn = call((h[:H], h[H:]), x)
            return jnp.concatenate([hn, cn])
    else:
        def step(h, x):
            cn, hn = call((h[H:], h[:H]), x)
            return jnp.concatenate([hn, cn])
    return step
