r"""Parameter trees: nested dicts, lists and tuples of arrays, flattened into named leaves and rebuilt.

A leaf is named by its path, the way you would write it in Python without the quotes: ``W1`` for
``params["W1"]``, ``layers[0].W`` for ``params["layers"][0]["W"]``, and with several arguments the
argument's name first (``W``, ``b`` or ``params.W1``). An element is the leaf's name with its index,
``W1[3, 2]``.

PyTorch tensors and JAX arrays are converted to NumPy at this boundary and back to their own kind
(same dtype and device) whenever f or the gradient is called, so nnref itself imports neither.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from nnref.gradcheck._validate import _as_point


def _framework(value) -> str | None:
    """'torch', 'jax' or None (NumPy or anything np.asarray understands)."""
    root = type(value).__module__.split(".")[0]
    if root == "torch" and hasattr(value, "detach"):
        return "torch"
    if root in ("jax", "jaxlib"):
        return "jax"
    return None


def to_numpy(value):
    """A framework array as a NumPy array (detached, on the CPU); anything else unchanged."""
    kind = _framework(value)
    if kind == "torch":
        return value.detach().cpu().numpy()
    if kind == "jax":
        return np.asarray(value)
    return value


def _native(kind: str | None, like, arr: np.ndarray):
    """arr as the kind of array `like` was: a tensor on like's device, a JAX array, or NumPy."""
    if kind == "torch":
        torch = sys.modules["torch"]  # loaded: `like` is one of its tensors
        return torch.as_tensor(arr, device=like.device)
    if kind == "jax":
        return sys.modules["jax.numpy"].asarray(arr)
    return arr


@dataclass
class _Leaf:
    name: str
    array: np.ndarray
    kind: str | None
    original: object


@dataclass
class Tree:
    """The flattened arguments: leaves in order, and how to rebuild the arguments from new arrays."""

    leaves: list[_Leaf]
    rebuild: Callable[[list], tuple]
    args: tuple
    names: list[str]

    def native(self, arrays: list[np.ndarray]) -> tuple:
        """The arguments rebuilt around `arrays`, each leaf in its original kind (tensor, JAX or NumPy)."""
        return self.rebuild([_native(leaf.kind, leaf.original, a) for leaf, a in zip(self.leaves, arrays)])

    def call(self, fn: Callable, arrays: list[np.ndarray]):
        """fn(*arguments) with the leaves replaced by `arrays`."""
        return fn(*self.native(arrays))

    def arrays(self) -> list[np.ndarray]:
        return [leaf.array.copy() for leaf in self.leaves]


def _join(prefix: str, key) -> str:
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    key = str(key)
    if not prefix:
        return key
    return f"{prefix}.{key}" if key.isidentifier() else f"{prefix}[{key!r}]"


def _flatten(node, path: str, leaves: list[_Leaf]) -> Callable[[list], object]:
    """Append node's leaves; return a function rebuilding node from an iterator of new leaves."""
    if isinstance(node, Mapping):
        builders = {k: _flatten(v, _join(path, k), leaves) for k, v in node.items()}
        return lambda it: {k: b(it) for k, b in builders.items()}
    if isinstance(node, (list, tuple)):
        builders = [_flatten(v, _join(path, i), leaves) for i, v in enumerate(node)]
        if isinstance(node, tuple) and hasattr(node, "_fields"):  # a namedtuple
            return lambda it: type(node)(*(b(it) for b in builders))
        return lambda it: type(node)(b(it) for b in builders)
    kind = _framework(node)
    leaves.append(_Leaf(path, _as_point(to_numpy(node), path or "x"), kind, node))
    return lambda it: next(it)


def _argument_names(fn: Callable, n: int) -> list[str]:
    """The names of fn's first n positional parameters, or args[i] where they cannot be read."""
    try:
        params = [
            p
            for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        params = []
    names = [p.name for p in params[:n]]
    return names + [f"args[{i}]" for i in range(len(names), n)]


def flatten_args(fn: Callable, args: tuple) -> Tree:
    """The leaves of f's arguments: one argument is named by its own paths, several by f's parameter names."""
    if not args:
        raise TypeError("give the point to check: at least one argument after the function(s)")
    leaves: list[_Leaf] = []
    if len(args) == 1:  # a lone container's leaves are named by their keys; a lone array by f's parameter
        container = isinstance(args[0], (Mapping, list, tuple))
        names = [""] if container else [_argument_names(fn, 1)[0].replace("args[0]", "x")]
    else:
        names = _argument_names(fn, len(args))
    builders = [_flatten(arg, name, leaves) for arg, name in zip(args, names)]
    if not leaves or sum(leaf.array.size for leaf in leaves) == 0:
        raise ValueError("the arguments must hold at least one number to check")

    def rebuild(arrays: list) -> tuple:
        it = iter(arrays)
        return tuple(b(it) for b in builders)

    return Tree(leaves, rebuild, args, names)


def _match(node, like, path: str, what: str, out: list) -> None:
    """Collect the arrays of `node`, a structure like `like` (dict keys may carry the notebook's 'd')."""
    where = f"{what}[{path!r}]" if path else what
    if isinstance(like, Mapping):
        if not isinstance(node, Mapping):
            raise TypeError(f"{where} must be a dict like the parameters, got {type(node).__name__}")
        for k, v in like.items():
            for key in (k, f"d{k}"):
                if key in node:
                    _match(node[key], v, _join(path, k), what, out)
                    break
            else:
                raise ValueError(f"{what} has no entry for parameter {_join(path, k)!r} (looked for {k!r} and 'd{k}')")
    elif isinstance(like, (list, tuple)):
        if not isinstance(node, (list, tuple)):
            raise TypeError(f"{where} must be a list or tuple like the parameters, got {type(node).__name__}")
        if len(node) != len(like):
            raise ValueError(f"{where} must hold {len(like)} entries like the parameters, got {len(node)}")
        for i, (n, v) in enumerate(zip(node, like)):
            _match(n, v, _join(path, i), what, out)
    else:
        out.append(to_numpy(node))


def match_leaves(value, tree: Tree, what: str, shapes: list[tuple] | None = None) -> list[np.ndarray]:
    """`value` (one structure per argument: a tuple when there are several) as float64 arrays per leaf.

    shapes: the shape each array must have (default: its leaf's shape).
    """
    parts: list = []
    args = tree.args
    if len(args) == 1:
        _match(value, args[0], "", what, parts)
    else:
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            raise TypeError(
                f"{what} must be a tuple with one entry per argument ({len(args)}), got {type(value).__name__}"
            )
        for v, a, name in zip(value, args, tree.names):
            _match(v, a, name, what, parts)
    out = []
    for i, (leaf, part) in enumerate(zip(tree.leaves, parts)):
        where = f"{what} for {leaf.name}" if leaf.name else what
        arr = np.asarray(part) if not isinstance(part, (str, bytes)) else np.asarray(None, dtype=object)
        if arr.dtype.kind not in "fiub":
            raise TypeError(f"{where} must be a real array, got dtype {arr.dtype}")
        shape = leaf.array.shape if shapes is None else shapes[i]
        if arr.shape != shape:
            raise ValueError(f"{where} must have shape {shape}, got {arr.shape}")
        out.append(arr.astype(np.float64))
    return out


def element_name(name: str, index: tuple) -> str:
    """``W1[3, 2]``; a 0-d leaf is its name alone."""
    if not index:
        return name or "x"
    return f"{name or 'x'}[{', '.join(str(int(i)) for i in index)}]"
