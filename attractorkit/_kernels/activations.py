"""The activation functions of the vanilla cells, the one definition every kernel uses.

Codes ``TANH`` ... ``IDENTITY`` (:data:`ACTIVATION_CODES` maps names to them). Scalar forms
(:func:`phi`, :func:`dphi`) for kernels that fuse the activation into their own loops; vector
forms (:func:`activate`, :func:`activate_derivative`) with the branch outside the loop, so that
the loop vectorises. Softplus follows PyTorch (beta 1, threshold 20); ReLU'(0) = 0, as PyTorch.
"""

from __future__ import annotations

import numpy as np
from numba import njit

TANH = 0
RELU = 1
SOFTPLUS = 2
SIGMOID = 3
IDENTITY = 4

ACTIVATION_CODES = {
    "tanh": TANH,
    "relu": RELU,
    "softplus": SOFTPLUS,
    "sigmoid": SIGMOID,
    "identity": IDENTITY,
}


@njit(cache=True, inline="always")
def sigmoid(z):
    if z >= 0.0:
        return 1.0 / (1.0 + np.exp(-z))
    e = np.exp(z)
    return e / (1.0 + e)


@njit(cache=True, inline="always")
def phi(act, z):
    """phi(z) for one value."""
    if act == TANH:
        return np.tanh(z)
    if act == RELU:
        return z if z > 0.0 else 0.0
    if act == SOFTPLUS:
        return z if z > 20.0 else np.log1p(np.exp(z))
    if act == SIGMOID:
        return sigmoid(z)
    return z


@njit(cache=True, inline="always")
def dphi(act, z):
    """phi'(z) for one value."""
    if act == TANH:
        t = np.tanh(z)
        return 1.0 - t * t
    if act == RELU:
        return 1.0 if z > 0.0 else 0.0
    if act == SOFTPLUS:
        return 1.0 if z > 20.0 else sigmoid(z)
    if act == SIGMOID:
        s = sigmoid(z)
        return s * (1.0 - s)
    return 1.0


@njit(cache=True)
def activate(act, z, out):
    """out[i] = phi(z[i]) (``out`` may be ``z``)."""
    n = z.shape[0]
    if act == TANH:
        for i in range(n):
            out[i] = np.tanh(z[i])
    elif act == RELU:
        for i in range(n):
            out[i] = z[i] if z[i] > 0.0 else 0.0
    elif act == SOFTPLUS:
        for i in range(n):
            out[i] = z[i] if z[i] > 20.0 else np.log1p(np.exp(z[i]))
    elif act == SIGMOID:
        for i in range(n):
            out[i] = sigmoid(z[i])
    else:
        for i in range(n):
            out[i] = z[i]


@njit(cache=True)
def activate_derivative(act, z, out):
    """out[i] = phi'(z[i]) (``out`` may be ``z``)."""
    n = z.shape[0]
    if act == TANH:
        for i in range(n):
            t = np.tanh(z[i])
            out[i] = 1.0 - t * t
    elif act == RELU:
        for i in range(n):
            out[i] = 1.0 if z[i] > 0.0 else 0.0
    elif act == SOFTPLUS:
        for i in range(n):
            out[i] = 1.0 if z[i] > 20.0 else sigmoid(z[i])
    elif act == SIGMOID:
        for i in range(n):
            s = sigmoid(z[i])
            out[i] = s * (1.0 - s)
    else:
        for i in range(n):
            out[i] = 1.0
