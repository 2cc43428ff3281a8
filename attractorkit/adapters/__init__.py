"""Adapters: how attractorkit reads a model (imported as ``attractorkit.adapters``).

Standard cells (vanilla, leaky, GRU, LSTM) from numpy or PyTorch weights lower to numba kernels;
any other differentiable step function works through autograd (PyTorch, JAX) or finite
differences (plain callables). Model files (safetensors, npz, PyTorch state_dicts) are read by
:func:`load_model` and written by :func:`save_model_files`. Frameworks are imported lazily: a
missing one raises an ImportError that names the extra to install.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "VanillaRNN": "_numpy",
    "GRU": "_numpy",
    "LSTM": "_numpy",
    "TorchModel": "_torch",
    "JaxModel": "_jax",
    "CallableModel": "_callable",
    "wrap": "_wrap",
    "load_model": "_files",
    "save_model_files": "_files",
    "ModelFileError": "_files",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'attractorkit.adapters' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
