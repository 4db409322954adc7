"""The kernels the blockwise runtime runs on its blocks (nnref/_inplace.py): the generated code
rewritten to compute into reused buffers, bit for bit the generated code's results."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import nnref.activations as A
from nnref import _blockwise, _inplace

SCALAR = [n for n in A.names() if hasattr(A.get(n), "_function")]


@pytest.fixture(scope="module")
def z():
    rng = np.random.default_rng(11)
    specials = [0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -745.5, 710.0, -1e308, 1e308, -2.3993572805154675]
    return np.concatenate([rng.normal(0, 5, 20_000), rng.normal(0, 400, 2_000), specials])


def _bits(a) -> np.ndarray:
    a = np.asarray(a)
    return a.view({8: np.int64, 4: np.int32}[a.itemsize]) if a.dtype.kind == "f" else a


@pytest.mark.parametrize("name", SCALAR)
def test_every_block_kernel_gives_the_generated_bits(name, z):
    act = A.get(name)
    for which in ("f", "df", "d2f", "f_df"):
        plain = act._function(which)
        fast = _inplace.block_kernel(plain)
        with np.errstate(all="ignore"):
            want = plain(z.copy(), **act.params)
            first = fast(z.copy(), **act.params)
            first = tuple(np.array(r) for r in first) if isinstance(first, tuple) else np.array(first)
            again = fast(z.copy(), **act.params)  # the same buffers, written a second time
        for got in (first, again):
            pairs = zip(want, got) if isinstance(want, tuple) else [(want, got)]
            for w, g in pairs:
                w, g = np.broadcast_to(w, z.shape), np.broadcast_to(g, z.shape)
                assert np.array_equal(_bits(w), _bits(g)), (name, which)


def test_the_block_kernels_allocate_no_block_sized_array():
    # sigmoid's f is 1/(1 + exp(-z)): four block-sized temporaries as generated, none rewritten.
    fast = _inplace.block_kernel(A.get("sigmoid")._function("f"))
    assert fast.buffers == 1, fast.source
    block = np.random.default_rng(0).normal(0, 5, _blockwise.BLOCK)
    fast(block)  # the thread's buffers exist from here on
    tracemalloc.start()
    try:
        fast(block)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < block.nbytes // 4, peak
    tracemalloc.start()
    try:
        A.get("sigmoid")._function("f")(block)  # the generated code, for contrast: it does allocate
        _, peak_plain = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak_plain >= block.nbytes


def test_what_a_call_made_as_written_was_handed_is_not_written_again():
    # special_values returns its value untouched when z is finite: the buffer it was handed is the
    # first output, and the second must not be computed into it.
    source = (
        "import numpy, nnref._primitives\n"
        "def k_f_df(z):\n"
        "    return (nnref._primitives.special_values(z, numpy.exp(-z), 0, 0), numpy.tanh(z*2) + 1)\n"
    )
    namespace: dict = {}
    exec(compile(source, "<k>", "exec"), namespace)
    fast = _inplace.block_kernel(namespace["k_f_df"], source)
    assert fast.buffers == 2, fast.source  # rewritten from the source given (a custom activation's)
    x = np.linspace(-3, 3, 1000)
    f, d = fast(x)
    assert np.array_equal(f, np.exp(-x)) and np.array_equal(d, np.tanh(x * 2) + 1)


def test_code_that_is_not_straight_line_is_run_as_it_is():
    source = "import numpy\ndef k_f(z):\n    if z.size:\n        return numpy.exp(z)\n    return z\n"
    namespace: dict = {}
    exec(compile(source, "<k>", "exec"), namespace)
    kernel = _inplace.block_kernel(namespace["k_f"], source)
    assert kernel.__wrapped__ is namespace["k_f"] and kernel.buffers == 0
    x = np.linspace(-1, 1, 5)
    assert np.array_equal(kernel(x, _out=(np.empty(5),)), np.exp(x))


@pytest.mark.parametrize("n", [10, 5 * _blockwise.BLOCK])
def test_no_result_is_the_input_or_another_result(n):
    x = np.linspace(-4, 4, n)
    for name in ELEMENTWISE:
        act = A.get(name)
        for which in ("f", "df", "d2f"):
            assert not np.shares_memory(getattr(act, which)(x), x), (name, which)
        a, d = act.f_df(x)
        assert not np.shares_memory(a, x) and not np.shares_memory(d, x) and not np.shares_memory(a, d), name
    y = A.get("identity").f(x)
    y[0] = 99.0  # the caller owns what it gets
    assert x[0] == -4.0


ELEMENTWISE = [n for n in A.names() if n not in ("softmax", "log_softmax")]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_blockwise_vjp_is_g_times_the_generated_derivative(dtype):
    rng = np.random.default_rng(5)
    n = 2 * _blockwise.THRESHOLD + 9
    z, g = rng.normal(0, 6, n).astype(dtype), rng.normal(0, 1, n).astype(dtype)
    for name in SCALAR:
        act = A.get(name)
        with np.errstate(all="ignore"):
            d = np.broadcast_to(act._function("df")(z.astype(np.float64), **act.params), z.shape)
            want = (g.astype(np.float64) * d).astype(dtype)
        assert np.array_equal(_bits(act.vjp(z, g)), _bits(want)), name
        zz = z.copy()
        assert act.vjp(zz, g, out=zz) is zz and np.array_equal(_bits(zz), _bits(want)), name  # over z itself


@pytest.mark.parametrize(
    "body",
    [
        # a variable handed over by keyword, and one renamed: both still hold their values later
        "    a = numpy.exp(z)\n    b = nnref._primitives.special_values(z, value=a, at_minus_inf=0, at_plus_inf=1)\n"
        "    c = numpy.tanh(z) + 1\n    return (b, c)\n",
        "    a = numpy.exp(z)\n    b = a\n    c = numpy.tanh(z) + 1\n    return (b, c)\n",
    ],
    ids=["keyword", "renamed"],
)
def test_a_buffer_that_is_still_held_is_not_reused(body):
    source = "import numpy, nnref._primitives\ndef k_f_df(z):\n" + body
    namespace: dict = {}
    exec(compile(source, "<k>", "exec"), namespace)
    fast = _inplace.block_kernel(namespace["k_f_df"], source)
    x = np.linspace(-3, 3, 1000)
    f, d = fast(x)
    assert np.array_equal(f, np.exp(x)) and np.array_equal(d, np.tanh(x) + 1), fast.source


@pytest.mark.parametrize("name", ["silu", "mish", "gelu", "gelu_tanh"])
def test_a_small_array_in_fortran_order_is_patched(name):
    # Below SMALL the generated code runs on the array as given: a patch must land whatever its layout.
    act = A.get(name)
    centres = np.array([-2.3993572805154675, -1.2784645427610737, -2.256376396360793, -1.1924312145154952,
                        -0.7524614220710163, -1.4185040087908283, 1.4185040087908283, 2.4])  # fmt: skip
    z = np.asfortranarray(np.tile(centres, (3, 1)) + np.linspace(-0.01, 0.01, 3)[:, None])
    for which in ("df", "d2f"):
        assert np.array_equal(getattr(act, which)(z), getattr(act, which)(np.ascontiguousarray(z))), which
