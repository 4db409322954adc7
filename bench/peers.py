"""The tools nnref is measured against, each as people call it, in float64.

Every activation and loss entry carries its PyTorch and JAX twin (``entry.twin``, an expression
of the tool's own functions; derivations/entry.py). Here a twin becomes a pair of functions on
float64 NumPy arrays: f, and f' by the tool's own automatic differentiation (PyTorch autograd,
``jax.grad``), which is what a user of those tools gets. Losses are per element with the target
array ``t`` beside the prediction, as `derivations.reference.loss_accuracy` measures nnref.

Imports are lazy: the accuracy report needs torch and jax, nothing else here does.
"""

from __future__ import annotations

import functools

import numpy as np


@functools.cache
def _torch() -> dict:
    import torch
    import torch.nn.functional as F

    return {"torch": torch, "F": F}


@functools.cache
def _jax() -> dict:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    return {"jax": jax, "jnp": jnp}


def torch_pair(twin, params: dict, target=None, dtype=np.float64):
    """(f, f') on NumPy arrays of ``dtype``, computed by PyTorch in that dtype, f' by autograd of
    sum(f) (or the twin's own torch_df)."""
    scope = _torch()
    torch = scope["torch"]

    def both(x):
        xt = torch.tensor(np.asarray(x, dtype=dtype), requires_grad=True)
        t = None if target is None else torch.full_like(xt, float(target))
        out = twin.call(twin.torch, scope, xt, t, params)
        if twin.torch_df:
            grad = twin.call(twin.torch_df, scope, xt)
        elif out.requires_grad:
            (grad,) = torch.autograd.grad(out.sum(), xt)
        else:  # piecewise constant: autograd has nothing to differentiate
            grad = torch.zeros_like(xt)
        return out.detach().numpy(), grad.detach().numpy()

    return (lambda x: both(x)[0]), (lambda x: both(x)[1])


def torch_derivatives(twin, params: dict, dtype=np.float32):
    """(f, f', f'') on NumPy arrays of ``dtype``, computed by PyTorch in that dtype: f' by autograd
    of sum(f) (or the twin's own torch_df), f'' by autograd of sum(f') (double backward), which raises
    RuntimeError where PyTorch cannot differentiate its own backward (hardsigmoid's)."""
    scope = _torch()
    torch = scope["torch"]

    def run(x, order: int):
        xt = torch.tensor(np.asarray(x, dtype=dtype), requires_grad=True)
        out = twin.call(twin.torch, scope, xt, None, params)
        if order == 0:
            return out.detach().numpy()
        if twin.torch_df:
            grad = twin.call(twin.torch_df, scope, xt)
        elif out.requires_grad:
            (grad,) = torch.autograd.grad(out.sum(), xt, create_graph=order == 2)
        else:
            grad = torch.zeros_like(xt)
        if order == 1:
            return grad.detach().numpy()
        if not grad.requires_grad:  # piecewise linear: the second derivative is 0 where it exists
            return torch.zeros_like(xt).detach().numpy()
        (second,) = torch.autograd.grad(grad.sum(), xt)
        return second.detach().numpy()

    return tuple((lambda x, k=k: run(x, k)) for k in range(3))


def jax_pair(twin, params: dict, target=None):
    """(f, f') on float64 NumPy arrays, f' by jax.grad of sum(f), each jit-compiled."""
    scope = _jax()
    jax, jnp = scope["jax"], scope["jnp"]

    def f(x):
        t = None if target is None else jnp.full_like(x, float(target))
        return twin.call(twin.jax, scope, x, t, params)

    value = jax.jit(f)
    grad = jax.jit(jax.grad(lambda x: jnp.sum(f(x))))

    def run(fn):
        return lambda x: np.asarray(fn(jnp.asarray(x, dtype=jnp.float64)), dtype=np.float64)

    return run(value), run(grad)


def versions(tools=("PyTorch", "JAX")) -> dict[str, str]:
    """The versions of the given tools (importing only those)."""
    found = {"PyTorch": lambda: _torch()["torch"].__version__, "JAX": lambda: _jax()["jax"].__version__}
    return {tool: found[tool]() for tool in tools if tool in found}
