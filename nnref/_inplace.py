"""A generated kernel rewritten to compute into reused buffers, for the blockwise runtime.

A generated f, f' or (f, f') is straight-line NumPy code: every operator and ufunc call makes a new
array the size of its input. On a block of the runtime (``_blockwise.BLOCK`` elements, 1 MiB of
float64) each such temporary is fresh memory: glibc hands it out from the top of the heap and,
once the kernel has freed several, gives the pages back to the kernel, so the next block faults
them in again. Measured on the machine of the Performance page, a page fault costs about 2 µs and
they were most of the time of a kernel (sigmoid's f: 96 faults and 7.8 ns per element per block,
against 1.7 ns without them).

``block_kernel(fn)`` parses fn's source and writes the same function with every arithmetic
operator and elementwise ufunc (``numpy.exp``, ``numpy.tanh``, …) given an ``out=`` buffer from a
per-thread set kept for the life of the thread; the buffers are assigned once, when it is
rewritten (the code is straight-line: a buffer is reused after the last use of what it holds).
The operations and their order are unchanged, so the results are bit for bit those of fn
(tests/test_inplace.py compares every activation's f, f', f'' and (f, f') on 10^5 inputs).

A call to anything else (``nnref._primitives.*``, ``numpy.where``) is made as written. What it is
handed is never written again in that call of the kernel, because what it returns may be its
argument (``special_values`` returns its ``value`` untouched when z is all finite).

A block kernel must not call another (they would share this thread's buffers): generated code
calls only NumPy and ``nnref._primitives``.

The rewritten kernel returns buffers that the next call on the same thread overwrites: it is only
for ``_blockwise.evaluate``, which hands it the block's slice of the output (``_out``) and copies
the results that were not computed there before computing the next block.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import threading
from collections.abc import Callable

import numpy as np

#: The ufuncs given an ``out=`` buffer: elementwise, float64 in and float64 out.
UFUNCS = frozenset(
    {"exp", "expm1", "exp2", "log", "log1p", "log2", "log10", "tanh", "sinh", "cosh", "sin", "cos", "arctan",
     "sqrt", "abs", "absolute", "negative", "square", "maximum", "minimum", "add", "subtract", "multiply", "divide"}
)  # fmt: skip
_BINOPS = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply", ast.Div: "divide"}

_LOCAL = threading.local()  # this thread's buffers for the kernels
_INPUTS = threading.local()  # and, apart, for a float32 input's blocks in float64


def _held(local: threading.local, count: int, n: int) -> list[np.ndarray]:
    """``count`` float64 arrays of length n, this thread's own, the same ones on every call."""
    held = getattr(local, "held", [])
    if len(held) < count or (held and held[0].size < n):
        size = max(n, held[0].size if held else 0)
        held = [np.empty(size) for _ in range(max(count, len(held)))]
        local.held = held
    return [b[:n] for b in held[:count]]


def _buffers(count: int, n: int) -> list[np.ndarray]:
    return _held(_LOCAL, count, n)


def inputs(blocks) -> list[np.ndarray]:
    """The blocks converted to float64 in this thread's own arrays (a float32 input's blocks)."""
    out = _held(_INPUTS, len(blocks), blocks[0].shape[0])
    for o, b in zip(out, blocks):
        np.copyto(o, b)
    return out


class _Rewriter:
    """Rewrites one function's body; ``buffers`` is how many it needs."""

    def __init__(self, arrays: set[str]):
        self.arrays = set(arrays)  # names holding arrays (z, and variables assigned from array expressions)
        self.free: list[int] = []
        self.buffers = 0
        self.owner: dict[str, int] = {}  # variable -> the buffer holding it
        self.pinned: set[int] = set()  # handed to a call made as written: never reused in this call
        self.rewritten: set[int] = set()  # id() of the calls this pass wrote (each ends in out=_bN)

    def _take(self) -> int:
        if self.free:
            return self.free.pop()
        self.buffers += 1
        return self.buffers - 1

    def _release(self, b: int | None) -> None:
        if b is not None and b not in self.pinned and b not in self.free:
            self.free.append(b)

    @staticmethod
    def _out(b: int) -> ast.keyword:
        return ast.keyword(arg="out", value=ast.Name(id=f"_b{b}", ctx=ast.Load()))

    @staticmethod
    def _numpy(name: str) -> ast.Attribute:
        return ast.Attribute(value=ast.Name(id="numpy", ctx=ast.Load()), attr=name, ctx=ast.Load())

    def expr(self, node: ast.expr) -> tuple[ast.expr, bool, int | None]:
        """(rewritten node, whether it is an array, the temporary buffer it returns in or None)."""
        if isinstance(node, ast.Name):
            return node, node.id in self.arrays, None
        if isinstance(node, ast.Constant):
            return node, False, None
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return self._ufunc(_BINOPS[type(node.op)], [node.left, node.right], node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return self._ufunc("negative", [node.operand], node)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            if isinstance(node.right, ast.Constant) and node.right.value == 2:
                return self._ufunc("square", [node.left], node)  # what ndarray ** 2 calls
        if _is_astype_float64(node):  # x.astype(numpy.float64): a comparison's mask, as 0.0 and 1.0
            value, is_array, b = self.expr(node.func.value)
            if is_array:
                if b is not None:
                    self.pinned.add(b)  # (a float64 buffer already: cast as it is)
                out = self._take()
                call = ast.Call(
                    func=ast.Name(id="_nnref_cast", ctx=ast.Load()), args=[value], keywords=[self._out(out)]
                )
                return call, True, out
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "numpy"
            and node.func.attr in UFUNCS
            and not node.keywords
        ):
            return self._ufunc(node.func.attr, node.args, node)
        return self._as_written(node)

    def _ufunc(self, name: str, args: list[ast.expr], original: ast.expr):
        done = [self.expr(a) for a in args]
        if not any(is_array for _, is_array, _ in done):
            # scalars only (constants, parameters): computed as written
            return self._as_written(original)
        temps = [b for _, _, b in done if b is not None]
        out = temps[0] if temps else self._take()
        for b in temps[1:]:
            self._release(b)
        call = ast.Call(func=self._numpy(name), args=[n for n, _, _ in done], keywords=[self._out(out)])
        self.rewritten.add(id(call))
        return call, True, out

    def _as_written(self, node: ast.expr):
        """A call made as written (its arguments rewritten), or any other expression untouched."""
        if isinstance(node, ast.Call):
            args = [self.expr(a) for a in node.args]
            for _, _, b in args:
                if b is not None:
                    self.pinned.add(b)
            keywords = []
            for k in node.keywords:
                value, _, b = self.expr(k.value)
                if b is not None:
                    self.pinned.add(b)
                keywords.append(ast.keyword(arg=k.arg, value=value))
            self._pin_mentioned(node)  # a variable handed over may come back as (part of) the result
            is_array = any(is_a for _, is_a, _ in args) or _mentions(node, self.arrays)
            return ast.Call(func=node.func, args=[n for n, _, _ in args], keywords=keywords), is_array, None
        if isinstance(node, ast.Tuple):
            elts = [self.expr(e) for e in node.elts]
            return ast.Tuple(elts=[n for n, _, _ in elts], ctx=ast.Load()), False, None
        self._pin_mentioned(node)  # y = x, x.T, x[1:], ...: what it holds may be what this gives
        return node, _mentions(node, self.arrays), None

    def _pin_mentioned(self, node: ast.expr) -> None:
        """Pin the buffer of every variable that ``node`` mentions, positional, keyword or nested."""
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and n.id in self.owner:
                self.pinned.add(self.owner[n.id])

    def body(self, statements: list[ast.stmt]) -> list[ast.stmt]:
        last_use = {}
        for i, s in enumerate(statements):
            for n in ast.walk(s):
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
                    last_use[n.id] = i
        out = []
        for i, s in enumerate(statements):
            if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name):
                value, is_array, b = self.expr(s.value)
                name = s.targets[0].id
                if is_array:
                    self.arrays.add(name)
                if b is not None:
                    self.owner[name] = b
                else:  # name may now hold what a variable holds (b = a): that buffer stays as it is
                    self._pin_mentioned(s.value)
                out.append(ast.Assign(targets=s.targets, value=value, lineno=s.lineno))
            elif isinstance(s, ast.Return) and s.value is not None:
                value, _, _ = self.expr(s.value)
                # A result whose last operation is a rewritten one is computed straight into the
                # caller's output (``_out``, the block's slice of the result) when it gives one.
                for k, e in enumerate(value.elts if isinstance(value, ast.Tuple) else [value]):
                    if id(e) in self.rewritten:  # (its last keyword is out=_bN)
                        buffer = e.keywords[-1].value.id
                        e.keywords[-1] = ast.keyword(arg="out", value=ast.Name(id=f"_r{k}", ctx=ast.Load()))
                        out.extend(ast.parse(f"_r{k} = {buffer} if _out is None else _out[{k}]").body)
                out.append(ast.Return(value=value, lineno=s.lineno))
            elif isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant):
                continue  # the docstring
            else:
                raise _Unsupported(ast.dump(s)[:80])
            for name, b in list(self.owner.items()):
                if last_use.get(name, -1) <= i and name not in _targets(statements[i + 1 :]):
                    self._release(b)
                    del self.owner[name]
        return out


def _is_astype_float64(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "astype"
        and not node.keywords
        and len(node.args) == 1
        and isinstance(node.args[0], ast.Attribute)
        and isinstance(node.args[0].value, ast.Name)
        and node.args[0].value.id == "numpy"
        and node.args[0].attr == "float64"
    )


def _cast(x, out: np.ndarray) -> np.ndarray:
    """``x.astype(numpy.float64)`` into ``out`` (the same conversion, no new array)."""
    np.copyto(out, x, casting="unsafe")
    return out


class _Unsupported(Exception):
    pass


def _mentions(node: ast.AST, names: set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))


def _targets(statements: list[ast.stmt]) -> set[str]:
    return {t.id for s in statements if isinstance(s, ast.Assign) for t in s.targets if isinstance(t, ast.Name)}


def block_kernel(fn: Callable, source: str | None = None) -> Callable:
    """fn rewritten to compute into this thread's buffers (see the module's docstring), or fn
    as it is where its code is not straight-line assignments and a return. ``source``: the module
    source fn was compiled from, where ``inspect`` cannot find it (a custom activation's).

    Either takes ``_out``: a tuple of float64 arrays of z's shape, one per result, that the
    results whose last operation is an operator or a ufunc are computed into (then returned as
    they are: the caller copies only the others)."""
    cached = getattr(fn, "_nnref_block_kernel", None)
    if cached is not None:
        return cached
    try:
        rewritten = _rewrite(fn, source)
    except (_Unsupported, OSError, TypeError, SyntaxError, StopIteration):
        rewritten = None
    if rewritten is None:

        def rewritten(z, *args, _out=None, **kwargs):
            return fn(z, *args, **kwargs)

        rewritten.__wrapped__ = fn
        rewritten.buffers = 0
        rewritten.source = None
    try:  # kept on the function: it lives as long as the function does (a custom activation's too)
        fn._nnref_block_kernel = rewritten
    except AttributeError:  # a builtin or a callable without __dict__: rewritten on every call
        pass
    return rewritten


def _rewrite(fn: Callable, source: str | None) -> Callable:
    if source is None:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    else:
        tree = ast.parse(source)
    definition = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == fn.__name__)
    arguments = definition.args
    if arguments.vararg or arguments.kwarg or arguments.kwonlyargs or not arguments.args:
        raise _Unsupported("arguments")
    first = arguments.args[0].arg  # z: the block; any others are parameters (numbers)
    rewriter = _Rewriter({first})
    body = rewriter.body(definition.body)
    if rewriter.buffers == 0:
        return None
    arguments.kwonlyargs.append(ast.arg(arg="_out"))
    arguments.kw_defaults.append(ast.Constant(value=None))
    take = ast.parse(
        f"{', '.join(f'_b{i}' for i in range(rewriter.buffers))}, = _nnref_buffers({rewriter.buffers}, {first}.shape[0])"
    ).body
    definition.body = [*take, *body]
    definition.decorator_list = []
    module = ast.fix_missing_locations(ast.Module(body=[definition], type_ignores=[]))
    namespace = dict(fn.__globals__)
    namespace["_nnref_buffers"] = _buffers
    namespace["_nnref_cast"] = _cast
    exec(compile(module, f"<block kernel {fn.__name__}>", "exec"), namespace)
    plain = fn
    rewritten = namespace[fn.__name__]

    def kernel(z, *args, _out=None, **kwargs):
        if isinstance(z, np.ndarray) and z.ndim == 1 and z.dtype == np.float64:
            return rewritten(z, *args, _out=_out, **kwargs)
        return plain(z, *args, **kwargs)

    kernel.__name__ = fn.__name__
    kernel.__wrapped__ = fn
    kernel.buffers = rewriter.buffers
    kernel.source = ast.unparse(module)
    return kernel
