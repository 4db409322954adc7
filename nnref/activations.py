"""The activation registry: every activation's f, f', f'' and vector-Jacobian product.

All formulas are printed by ``nnref derive`` from ``derivations/activations.py`` into
``nnref/_generated/activations.py``; this module only validates inputs and dispatches.

>>> import numpy as np, nnref.activations as A
>>> A.get("sigmoid").df(np.array([0.0, 800.0, -800.0]))
array([0.25, 0.  , 0.  ])
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from nnref import _blockwise
from nnref._arrays import as_real_array, check_params, shaped_like
from nnref._generated import activations as _gen

#: Overflow and underflow inside a stable form are expected (exp(−z) for z < −709 feeding σ = 0).
#: An invalid operation or a division by zero happens only for a NaN or ±inf input (inf·0 in
#: silu at −inf, logaddexp of NaN), whose result the generated code sets itself (NaN, or the limit:
#: docs/special-values.md); on every finite input the generated code does neither (tested).
_QUIET = {"over": "ignore", "under": "ignore", "invalid": "ignore", "divide": "ignore"}

#: The vector-valued activations (softmax over axis 0, the units axis), generated separately.
_VECTOR = ("softmax", "log_softmax")


def names() -> list[str]:
    """The registry names, elementwise activations first, in the order the derivations list them."""
    return list(_gen.ENTRIES) + list(_VECTOR)


def _in_float64(kernel: Callable) -> Callable:
    """``kernel`` on float64 copies of float32 blocks; the caller's float32 output rounds the result
    once. The stable forms are held to 4 float64 ULP, so one rounding into float32 gives ≤ 0.5 +
    2⁻²⁷ float32 ULP wherever the truth is a normal float32; computed in float32 they lose up to
    1.6e7 (silu(−91.17): exp(91.17) overflows float32 and returns −0.0 for −2.31e-38)."""

    def run(*blocks: np.ndarray, _out=None):
        dtype = blocks[0].dtype
        if _out is not None:  # a block kernel (nnref._inplace), given the output's block
            if dtype == np.float64:
                return kernel(*blocks, _out=_out)
            from nnref._inplace import inputs

            result = kernel(*inputs(blocks))  # float32: the blocks in float64 buffers, and rounded
            for o, r in zip(_out, result if isinstance(result, tuple) else (result,)):
                np.copyto(o, r, casting="same_kind")  # into the output's block: astype's rounding
            return _out if isinstance(result, tuple) else _out[0]
        result = kernel(*(b.astype(np.float64, copy=False) for b in blocks))
        # Rounded back here, under the caller's errstate: a float64 result beyond float32's range
        # (selu(3.24e38)) becomes inf, the correct rounding, without an overflow warning.
        if isinstance(result, tuple):
            return tuple(np.asarray(r).astype(dtype, copy=False) for r in result)
        return np.asarray(result).astype(dtype, copy=False)

    return run


def _times_into(g: np.ndarray, d, z: np.ndarray, out=None):
    """g ⊙ d, computed into ``out[0]`` (the output's block) when given, else into d where d is a
    block kernel's own float64 array (neither z, g, nor a constant): one block-sized array fewer
    in the backward pass."""
    if out is not None:
        return np.multiply(g, d, out=out[0])
    if (
        isinstance(d, np.ndarray)
        and d.shape == g.shape
        and d.dtype == np.float64 == g.dtype
        and d.flags.writeable
        and d.flags.c_contiguous
        and not np.may_share_memory(d, z)
        and not np.may_share_memory(d, g)
    ):
        return np.multiply(g, d, out=d)
    return g * d


@dataclass(frozen=True)
class Activation:
    """An elementwise activation with its parameters bound.

    ``f``, ``df``, ``d2f`` take an array of any shape (0-d included) and return an array of the
    same shape and floating dtype (float32 stays float32, computed in float64 and rounded once;
    integers become float64).
    ``vjp(z, g)`` is ``g * f'(z)``, the backward step ``dZ = dA ⊙ f'(Z)``.
    """

    name: str
    params: dict[str, float] = field(default_factory=dict)
    title: str = ""
    kinks: tuple[float, ...] = ()
    kink: str = ""
    ulp_bounds: dict[str, float] = field(default_factory=dict)

    #: The floating-point conditions a kernel may raise without a warning.
    _errstate: ClassVar[dict] = _QUIET

    def _function(self, which: str) -> Callable:
        """The generated function NAME_which (f, df, d2f or f_df)."""
        return getattr(_gen, f"{self.name}_{which}")

    def _kernel(self, which: str, blocks: bool = False) -> Callable:
        """The generated function with the parameters bound: a function of z alone, evaluated in
        float64 (see ``_in_float64``). ``blocks``: the same code computing into reused buffers, for
        the blocks of ``_blockwise.evaluate`` only (it returns arrays its next call overwrites)."""
        fn = self._function(which)
        if blocks:
            from nnref import _inplace  # (parses the generated source: only for arrays cut into blocks)

            fast = _inplace.block_kernel(fn, getattr(self, "source", None))
            return _in_float64(lambda block, _out=None: fast(block, _out=_out, **self.params))
        return _in_float64((lambda block: fn(block, **self.params)) if self.params else fn)

    def _evaluate(self, which: str, z: np.ndarray, n_out: int):
        blocks = self._kernel(which, blocks=True) if _blockwise.in_blocks(z) else None
        return _blockwise.evaluate(self._kernel(which), z, n_out, self._errstate, blocks=blocks)

    def _call(self, which: str, z) -> np.ndarray:
        z = as_real_array(z, "z")
        return shaped_like(self._evaluate(which, z, 1), z)

    def f(self, z) -> np.ndarray:
        """f(z), elementwise."""
        return self._call("f", z)

    def df(self, z) -> np.ndarray:
        """f'(z), elementwise, with the documented convention at kinks."""
        return self._call("df", z)

    def d2f(self, z) -> np.ndarray:
        """f''(z), elementwise."""
        return self._call("d2f", z)

    def f_df(self, z) -> tuple[np.ndarray, np.ndarray]:
        """(f(z), f'(z)) computed together, sharing common subexpressions."""
        z = as_real_array(z, "z")
        a, d = self._evaluate("f_df", z, 2)
        a, d = shaped_like(a, z), shaped_like(d, z)
        # two arrays, even where f' is f (a patch with nothing to patch returns what it is given)
        return a, (d.copy() if np.may_share_memory(a, d) else d)

    def vjp(self, z, g, out: np.ndarray | None = None) -> np.ndarray:
        """Vector-Jacobian product g ⊙ f'(z): the gradient with respect to z given dL/df = g.

        ``out``: a C-contiguous array of the result's shape and dtype to write into, ``g`` itself
        included (the MLP's backward pass overwrites the upstream gradient, saving an array)."""
        z = as_real_array(z, "z")
        g = as_real_array(g, "g")
        if g.shape != z.shape:
            raise ValueError(f"g must have the shape of z {z.shape}, got {g.shape}")
        df = self._kernel("df")
        dtype = np.result_type(z, g)
        z, g = z.astype(dtype, copy=False), g.astype(dtype, copy=False)
        kernel = _in_float64(lambda zb, gb: gb * df(zb))
        blocks = None
        if _blockwise.in_blocks(z):
            df_blocks = self._kernel("df", blocks=True)
            blocks = _in_float64(lambda zb, gb, _out=None: _times_into(gb, df_blocks(zb), zb, _out))
        result = _blockwise.evaluate(kernel, z, 1, self._errstate, g, out=out, blocks=blocks)
        return result if out is not None else shaped_like(result, z)  # out may be z itself

    def __repr__(self) -> str:
        args = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"nnref.activations.get({self.name!r}{args})"


def get(name: str, **params: float):
    """The activation registered under ``name``, with its parameters bound.

    Raises ValueError listing the known names for an unknown name, and TypeError/ValueError naming
    the parameter for an unknown or invalid parameter (parameters must be finite and > 0).
    """
    if not isinstance(name, str) or name not in names():
        raise ValueError(f"unknown activation {name!r}; known activations: {', '.join(names())}")
    if name in _VECTOR:
        vector = importlib.import_module("nnref._vector")
        return vector.get(name, **params)
    meta = _gen.ENTRIES[name]
    bound = check_params(f"activation {name!r}", params, meta["params"], positive=frozenset(meta["params"]))
    return Activation(
        name=name,
        params=bound,
        title=meta["title"],
        kinks=tuple(meta["kinks"]),
        kink=meta["kink"],
        ulp_bounds=dict(meta["ulp_bounds"]),
    )


def resolve(activation, argument: str = "activation"):
    """An activation given either way the API accepts it: a registry name (``"relu"``), or an
    object with the registry's contract: ``nnref.activations.get(...)`` with its parameters bound,
    or ``nnref.custom.activation(...)``, a user's formula. ``argument`` names the argument in the
    error for anything else."""
    if isinstance(activation, str):
        return get(activation)
    if callable(getattr(activation, "f", None)) and callable(getattr(activation, "vjp", None)):
        return activation
    raise TypeError(
        f"{argument} must be a registry name ({', '.join(names())}) or an activation object "
        f"(nnref.activations.get(...), nnref.custom.activation(...)); got {activation!r}"
    )
