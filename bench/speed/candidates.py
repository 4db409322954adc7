"""The forms timed against nnref: the textbook NumPy formula (f, and f with f' from the same
intermediate), the best hand-written NumPy/SciPy form and PyTorch's function (f, and f with autograd's f')."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.special

from bench.speed.settings import INV_SQRT2, INV_SQRT_2PI


def quiet(fn: Callable) -> Callable:
    """fn under np.errstate(over/under="ignore"), as nnref's own calls are."""

    def wrapped(x):
        with np.errstate(over="ignore", under="ignore"):
            return fn(x)

    return wrapped


def textbook_f_df(name: str) -> Callable:
    """The textbook f and f' together, sharing the obvious subexpression (s, t, e^x, ...)."""

    def sigmoid(x):
        s = 1 / (1 + np.exp(-x))
        return s, s * (1 - s)

    def tanh(x):
        t = np.tanh(x)
        return t, 1 - t * t

    def softplus(x):
        e = np.exp(x)
        return np.log(1 + e), e / (1 + e)

    def gelu(x):
        c = 0.5 * (1 + scipy.special.erf(x * INV_SQRT2))
        return x * c, c + x * np.exp(-0.5 * x * x) * INV_SQRT_2PI

    def silu(x):
        s = 1 / (1 + np.exp(-x))
        return x * s, s * (1 + x * (1 - s))

    def mish(x):
        e = np.exp(x)
        t = np.tanh(np.log(1 + e))
        return x * t, t + x * (1 - t * t) * e / (1 + e)

    def elu(x):
        e = np.exp(x)
        return np.where(x > 0, x, e - 1), np.where(x > 0, 1.0, e)

    return quiet(locals()[name])


TEXTBOOK_F = {
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "tanh": np.tanh,
    "softplus": lambda x: np.log(1 + np.exp(x)),
    "gelu": lambda x: 0.5 * x * (1 + scipy.special.erf(x * INV_SQRT2)),
    "silu": lambda x: x / (1 + np.exp(-x)),
    "mish": lambda x: x * np.tanh(np.log(1 + np.exp(x))),
    "elu": lambda x: np.where(x > 0, x, np.exp(x) - 1),
}

BEST_F = {
    "sigmoid": scipy.special.expit,
    "tanh": np.tanh,
    "softplus": lambda x: np.logaddexp(0, x),
    "gelu": lambda x: x * scipy.special.ndtr(x),
    "silu": lambda x: x * scipy.special.expit(x),
    "mish": lambda x: x * np.tanh(np.logaddexp(0, x)),
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
}
BEST_NOTE = {
    "sigmoid": "scipy.special.expit(x)",
    "tanh": "np.tanh(x)",
    "softplus": "np.logaddexp(0, x)",
    "gelu": "x * scipy.special.ndtr(x)",
    "silu": "x * scipy.special.expit(x)",
    "mish": "x * np.tanh(np.logaddexp(0, x))",
    "elu": "np.where(x > 0, x, np.expm1(x))",
}


def torch_f(name: str):
    """The entry's PyTorch twin as a function of a tensor (derivations/activations.py)."""
    import torch
    import torch.nn.functional as F

    from derivations.activations import ACTIVATIONS

    twin, params = ACTIVATIONS[name].twin, ACTIVATIONS[name].params
    return lambda x: twin.call(twin.torch, {"torch": torch, "F": F}, x, params=params)


def torch_f_df(name: str):
    """f and f' in PyTorch as a training step gets them: the forward, then autograd's backward
    with an upstream gradient of ones (f'(x) elementwise)."""
    import torch

    f = torch_f(name)

    def both(x):
        x = x.detach().requires_grad_(True)
        y = f(x)
        (d,) = torch.autograd.grad(y, x, torch.ones_like(y))
        return y.detach(), d

    return both
