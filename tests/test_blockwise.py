"""Blockwise, threaded evaluation gives the very bits of one call on the whole array."""

from __future__ import annotations

import numpy as np
import pytest

import nnref.activations as A
from nnref import _blockwise
from nnref._generated import activations as gen

ELEMENTWISE = [n for n in A.names() if n not in ("softmax", "log_softmax")]


@pytest.fixture(scope="module")
def big():
    rng = np.random.default_rng(7)
    # Large enough for several blocks and a ragged last one; every regime of every function.
    x = np.concatenate([rng.normal(0, 8, 5 * _blockwise.BLOCK + 123), [0.0, -0.0, 800.0, -800.0, 1e308, -1e308]])
    return x.reshape(1, -1)[:, ::-1]  # not contiguous, and 2-D


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_blocks_and_threads_change_no_bit(name, dtype, big, monkeypatch):
    monkeypatch.setenv("NNREF_THREADS", "2")
    act = A.get(name)
    x = np.clip(big, -3e38, 3e38).astype(dtype) if dtype == np.float32 else big  # finite in float32 too
    assert x.size > _blockwise.THRESHOLD
    # The reference is one call on the whole array, made contiguous as the blocks are: NumPy's SIMD
    # loops (z**3 in gelu_tanh, say) may round differently on strided input.
    # float32 is computed in float64 and rounded once, so the reference is too.
    c = np.ascontiguousarray(x).astype(np.float64)
    with np.errstate(all="ignore"):
        whole = {w: np.asarray(getattr(gen, f"{name}_{w}")(c), dtype=dtype) for w in ("f", "df", "d2f")}
        whole_f, whole_df = (np.asarray(v, dtype=dtype) for v in gen.__dict__[f"{name}_f_df"](c))
    for which in ("f", "df", "d2f"):
        got = getattr(act, which)(x)
        assert got.shape == x.shape and got.dtype == dtype
        assert np.array_equal(got, np.broadcast_to(whole[which], x.shape), equal_nan=True), which
    f, d = act.f_df(x)
    assert np.array_equal(f, np.broadcast_to(whole_f, x.shape), equal_nan=True)
    assert np.array_equal(d, np.broadcast_to(whole_df, x.shape), equal_nan=True)


def test_one_thread_and_small_arrays_take_the_same_path(big, monkeypatch):
    act = A.get("gelu")
    monkeypatch.setenv("NNREF_THREADS", "1")
    one = act.df(big)
    monkeypatch.setenv("NNREF_THREADS", "3")
    assert np.array_equal(act.df(big), one)
    small = big[:, :100]
    assert np.array_equal(act.df(small), one[:, :100])


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_a_bad_thread_count_names_the_variable(value, big, monkeypatch):
    monkeypatch.setenv("NNREF_THREADS", value)
    with pytest.raises(ValueError, match="NNREF_THREADS must be a positive integer"):
        A.get("sigmoid").f(big)


@pytest.mark.parametrize("n", [1_000, 3 * _blockwise.THRESHOLD + 17], ids=["one call", "blocks"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_vjp_into_its_own_upstream_gradient(n, dtype, monkeypatch):
    """The MLP's backward pass writes g ⊙ f'(z) over g: the same bits as a fresh result."""
    monkeypatch.setenv("NNREF_THREADS", "2")
    rng = np.random.default_rng(3)
    z, g = (rng.normal(0, 4, (2, n // 2)).astype(dtype) for _ in range(2))
    for name in ("relu", "sigmoid", "mish"):
        act = A.get(name)
        fresh = act.vjp(z, g)
        into = g.copy()
        got = act.vjp(z, into, out=into)
        assert got is into and np.array_equal(got, fresh), name


def test_vjp_refuses_an_out_it_cannot_fill():
    act = A.get("relu")
    z = np.zeros((2, 3))
    for out in (np.zeros((3, 2)), np.zeros((2, 3), dtype=np.float32), np.zeros((3, 2)).T):
        with pytest.raises(ValueError, match="out must be a C-contiguous float64 array of shape"):
            act.vjp(z, z, out=out)


def test_the_gate_memo_never_answers_for_changed_or_large_input():
    """GELU-tanh's gate primitives share the double-double of c(v + kv³) through a per-thread memo
    (nnref/_primitives.py, _cubic_dd): an array changed in place gets a fresh result, and a whole
    large array is not kept."""
    from nnref import _primitives as P

    c = (1.5957691216057308, -9.96930880911092e-17, 0.044715)
    v = np.linspace(-5.0, 5.0, 1001)
    first = P.expit_cubic_slope(v, *c, v)
    v *= 1.5  # in place: same object, same shape, other values
    after = P.expit_cubic_slope(v, *c, v)
    P._CUBIC.last = None  # nothing kept: computed from scratch
    fresh = P.expit_cubic_slope(v, *c, v)
    assert np.array_equal(after, fresh) and not np.array_equal(first, fresh)
    P.expit_cubic(np.zeros(P._CUBIC_MAX + 1), *c, 1.0)
    assert P._CUBIC.last is None
