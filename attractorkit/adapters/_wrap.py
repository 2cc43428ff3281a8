"""``wrap``: turn whatever the user has into a Model."""

from __future__ import annotations

import sys

from attractorkit.core import (
    KernelModel,
    KernelSpec,
    ModelTypeError,
    ValidationError,
    check_choice,
    is_model,
)

__all__ = ["wrap"]

_HOW = (
    "supported: an object implementing the Model protocol (returned as is), a KernelSpec, a "
    "torch.nn.Module (nn.RNN/GRU/LSTM, their cells, or a one-step module with n_state=, "
    "n_input=), an Equinox GRUCell/LSTMCell or Flax GRUCell/LSTMCell/SimpleCell (linen cells "
    "with params=), a JAX step function (framework='jax' or a jitted/Equinox function, with "
    "n_state=, n_input=), or a plain Python callable step(h, x) with n_state=, n_input="
)


def wrap(obj, *, framework=None, **kw):
    """Return a :class:`~attractorkit.Model` for ``obj``.

    Dispatch: a Model -> itself (no keywords allowed); a :class:`~attractorkit.KernelSpec` ->
    :class:`~attractorkit.KernelModel`; a ``torch.nn.Module`` -> :class:`TorchModel`; an
    Equinox or Flax module or a JAX function (jitted, or any callable with
    ``framework="jax"``) -> :class:`JaxModel`, which lowers the standard cells (Equinox
    ``GRUCell``, ``LSTMCell``; Flax ``GRUCell``, ``LSTMCell``, ``SimpleCell``, linen ones with
    ``params=``) to numba kernels like PyTorch's; any other callable ->
    :class:`CallableModel` (``framework="torch"`` sends a plain function of torch tensors to
    :class:`TorchModel` instead).

    Parameters
    ----------
    obj : object
    framework : {None, "torch", "jax", "numpy"}
        Force the adapter for a plain callable ("numpy" means :class:`CallableModel`).
    **kw
        Passed to the adapter (``n_state``, ``n_input``, ``jacobian``, ``time``, ``dt``,
        ``argument_order``, ``params``...).

    Raises
    ------
    ModelTypeError
        When ``obj`` is none of the above; the message lists what is supported.

    Examples
    --------
    >>> import numpy as np
    >>> from attractorkit import adapters
    >>> jac = lambda h, x: np.broadcast_to(0.5 * np.eye(2), (len(h), 2, 2))
    >>> model = adapters.wrap(lambda h, x: 0.5 * h, n_state=2, n_input=0, jacobian=jac)
    >>> type(model).__name__
    'CallableModel'
    """
    if framework is not None:
        check_choice("framework", framework, ("torch", "jax", "numpy"))
    if isinstance(obj, KernelSpec):
        return KernelModel(obj, **kw)
    torch = sys.modules.get("torch")
    is_torch = torch is not None and isinstance(obj, torch.nn.Module)
    if framework == "torch" or is_torch:
        from ._torch import TorchModel

        return TorchModel(obj, **kw)
    if is_model(obj) and framework is None:
        if kw:
            raise ValidationError(
                f"kw: {type(obj).__name__} is already a Model; keyword arguments "
                f"{sorted(kw)} would be ignored"
            )
        return obj
    from ._jax import is_jax_function

    if framework == "jax" or (framework is None and is_jax_function(obj)):
        from ._jax import JaxModel

        return JaxModel(obj, **kw)
    if callable(obj):
        from ._callable import CallableModel

        return CallableModel(obj, **kw)
    raise ModelTypeError(f"obj: cannot use a {type(obj).__name__} as a model; {_HOW}")
