"""The tools nnref is measured against, each as people call it, in float64.

For every activation: ``torch_f(x)`` and ``jax_f(x)`` return f on a float64 array; their
derivatives are the tools' own automatic differentiation (PyTorch autograd, ``jax.grad``), which
is what a user of those tools gets. Losses are per element (``reduction="none"``) with the target
array ``t`` beside the prediction, as `derivations.reference.loss_accuracy` measures nnref.

Where a tool has no named function, the expression its users write is used (`EXPRESSIONS`).
Imports are lazy: the accuracy report needs torch and jax, nothing else here does.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace

import numpy as np

#: activation -> (PyTorch call, JAX call). Each call is (tool, x, params) -> f(x), where the tool
#: namespace has torch/F (torch.nn.functional) or jax/jnp.
ACTIVATIONS = {
    "identity": (lambda T, x, p: x * 1, lambda J, x, p: x * 1),
    # torch.heaviside has no derivative: the comparison is what a PyTorch user writes (f' is then 0).
    "step": (lambda T, x, p: (x >= 0).to(x.dtype), lambda J, x, p: J.jnp.heaviside(x, 1.0)),
    "sigmoid": (lambda T, x, p: T.torch.sigmoid(x), lambda J, x, p: J.jax.nn.sigmoid(x)),
    "tanh": (lambda T, x, p: T.torch.tanh(x), lambda J, x, p: J.jnp.tanh(x)),
    "relu": (lambda T, x, p: T.torch.relu(x), lambda J, x, p: J.jax.nn.relu(x)),
    "leaky_relu": (lambda T, x, p: T.F.leaky_relu(x, p["alpha"]), lambda J, x, p: J.jax.nn.leaky_relu(x, p["alpha"])),
    "elu": (lambda T, x, p: T.F.elu(x, p["alpha"]), lambda J, x, p: J.jax.nn.elu(x, p["alpha"])),
    "selu": (lambda T, x, p: T.F.selu(x), lambda J, x, p: J.jax.nn.selu(x)),
    "softplus": (lambda T, x, p: T.F.softplus(x), lambda J, x, p: J.jax.nn.softplus(x)),
    "softsign": (lambda T, x, p: T.F.softsign(x), lambda J, x, p: J.jax.nn.soft_sign(x)),
    "gelu": (lambda T, x, p: T.F.gelu(x), lambda J, x, p: J.jax.nn.gelu(x, approximate=False)),
    "gelu_tanh": (lambda T, x, p: T.F.gelu(x, approximate="tanh"), lambda J, x, p: J.jax.nn.gelu(x, approximate=True)),
    "silu": (lambda T, x, p: T.F.silu(x), lambda J, x, p: J.jax.nn.silu(x)),
    "mish": (lambda T, x, p: T.F.mish(x), lambda J, x, p: J.jax.nn.mish(x)),
    "hard_sigmoid": (lambda T, x, p: T.F.hardsigmoid(x), lambda J, x, p: J.jax.nn.hard_sigmoid(x)),
    "hard_tanh": (lambda T, x, p: T.F.hardtanh(x), lambda J, x, p: J.jax.nn.hard_tanh(x)),
    "hard_swish": (lambda T, x, p: T.F.hardswish(x), lambda J, x, p: J.jax.nn.hard_swish(x)),
    "log_sigmoid": (lambda T, x, p: T.F.logsigmoid(x), lambda J, x, p: J.jax.nn.log_sigmoid(x)),
}


def _jax_huber(J, x, t, delta):
    r = J.jnp.abs(x - t)
    return J.jnp.where(r <= delta, 0.5 * r**2, delta * (r - 0.5 * delta))


#: loss -> (PyTorch call, JAX call): (tool, prediction x, target t, params) -> per-element loss.
#: JAX ships no per-element losses; its column is the form its users write (optax's are the same).
LOSSES = {
    "mse": (lambda T, x, t, p: T.F.mse_loss(x, t, reduction="none"), lambda J, x, t, p: (x - t) ** 2),
    "mae": (lambda T, x, t, p: T.F.l1_loss(x, t, reduction="none"), lambda J, x, t, p: J.jnp.abs(x - t)),
    "huber": (
        lambda T, x, t, p: T.F.huber_loss(x, t, reduction="none", delta=p["delta"]),
        lambda J, x, t, p: _jax_huber(J, x, t, p["delta"]),
    ),
    "binary_cross_entropy": (
        lambda T, x, t, p: T.F.binary_cross_entropy(x, t, reduction="none"),
        lambda J, x, t, p: -(t * J.jnp.log(x) + (1 - t) * J.jnp.log1p(-x)),
    ),
    "binary_cross_entropy_with_logits": (
        lambda T, x, t, p: T.F.binary_cross_entropy_with_logits(x, t, reduction="none"),
        lambda J, x, t, p: J.jax.nn.softplus(x) - t * x,
    ),
    "categorical_cross_entropy": (
        lambda T, x, t, p: -(t * T.torch.log(x)),
        lambda J, x, t, p: -(t * J.jnp.log(x)),
    ),
    "hinge": (
        lambda T, x, t, p: T.torch.clamp(1 - t * x, min=0),
        lambda J, x, t, p: J.jnp.maximum(0.0, 1 - t * x),
    ),
}

#: (tool, name) pairs that are an expression of the tool's primitives, not a function it ships.
EXPRESSIONS = {
    ("PyTorch", "identity"),
    ("JAX", "identity"),
    ("PyTorch", "categorical_cross_entropy"),
    ("PyTorch", "hinge"),
    *(("JAX", name) for name in LOSSES),
}


@functools.cache
def _torch() -> SimpleNamespace:
    import torch
    import torch.nn.functional as F

    return SimpleNamespace(torch=torch, F=F)


@functools.cache
def _jax() -> SimpleNamespace:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    return SimpleNamespace(jax=jax, jnp=jnp)


def _call(table, tool, name, x, params, target):
    fn = table[name][0 if tool.__dict__.get("torch") else 1]
    if target is None:
        return fn(tool, x, params)
    return fn(tool, x, target, params)


def torch_pair(name: str, params: dict, target=None):
    """(f, f') on float64 NumPy arrays, f' by autograd of sum(f)."""
    T = _torch()
    table = ACTIVATIONS if target is None else LOSSES

    def both(x):
        xt = T.torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
        t = None if target is None else T.torch.full_like(xt, float(target))
        out = _call(table, T, name, xt, params, t)
        if out.requires_grad:
            (grad,) = T.torch.autograd.grad(out.sum(), xt)
        else:  # piecewise constant: autograd has nothing to differentiate
            grad = T.torch.zeros_like(xt)
        return out.detach().numpy(), grad.numpy()

    return (lambda x: both(x)[0]), (lambda x: both(x)[1])


def jax_pair(name: str, params: dict, target=None):
    """(f, f') on float64 NumPy arrays, f' by jax.grad of sum(f), each jit-compiled."""
    J = _jax()
    jnp = J.jnp
    table = ACTIVATIONS if target is None else LOSSES

    def f(x):
        t = None if target is None else jnp.full_like(x, float(target))
        return _call(table, J, name, x, params, t)

    value = J.jax.jit(f)
    grad = J.jax.jit(J.jax.grad(lambda x: jnp.sum(f(x))))

    def run(fn):
        return lambda x: np.asarray(fn(jnp.asarray(x, dtype=jnp.float64)), dtype=np.float64)

    return run(value), run(grad)


def versions(tools=("PyTorch", "JAX")) -> dict[str, str]:
    """The versions of the given tools (importing only those)."""
    found = {"PyTorch": lambda: _torch().torch.__version__, "JAX": lambda: _jax().jax.__version__}
    return {tool: found[tool]() for tool in tools if tool in found}
