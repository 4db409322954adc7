"""Floating-point primitives that the generated code calls where NumPy/SciPy have none accurate enough.

These are primitives in the sense of ``numpy.logaddexp``: they implement one named function of the
derivations (``ncdf`` and ``npdf`` in ``derivations/functions.py``), never a formula of an
activation or a derivative. They are verified against mpmath like everything else.
"""

from __future__ import annotations

import threading

import numpy as np


class _LazySciPy:
    """``scipy``, with ``scipy.special`` imported on first use rather than at import.

    Importing scipy.special takes about 150 ms (its array-API layer pulls in numpy.f2py), which
    importing the activations would otherwise pay before relu or tanh ever runs. The generated
    modules and the primitives below call ``scipy.special.NAME`` through this object; after the
    first call it costs one attribute look-up.
    """

    @property
    def special(self):
        import scipy.special

        return scipy.special


scipy = _LazySciPy()

_SPLITTER = 134217729.0  # 2**27 + 1: Veltkamp's constant for float64
_INV_SQRT_2PI = 0.3989422804014327  # 1/sqrt(2*pi), correctly rounded
_INV_SQRT_2 = 0.7071067811865476  # 1/sqrt(2), correctly rounded
_TAIL = 0.0  # below this, ndtr is exp(-u**2/2) * erfcx(-u/sqrt(2)) / 2, the erfcx from _mills
_UNDERFLOW = -40.0  # ndtr(u) and npdf(u) are below the smallest subnormal for u < -40
_FAR = 37.5  # beyond, exp(-u**2/2) is below 8e-306 (subnormal from u = 37.64)
_SHIFT = 64.0  # exp(64 - u**2/2) is normal for |u| <= 40; 64 - u**2/2 is exact for |u| >= 32
_EXP_MINUS_SHIFT = 1.603810890548638e-28  # exp(-64), correctly rounded


def two_product(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (p, e) with p = fl(a*b) and p + e = a*b exactly (Dekker), for |a|, |b| < 1e150."""
    t = _SPLITTER * a
    a_hi = t - (t - a)
    a_lo = a - a_hi
    t = _SPLITTER * b
    b_hi = t - (t - b)
    b_lo = b - b_hi
    p = a * b
    e = ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
    return p, e


def two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (s, e) with s = fl(a + b) and s + e = a + b exactly (Knuth), for finite a, b."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _as_float64(u) -> tuple[np.ndarray, np.dtype]:
    """Work in float64 (the splitting constant is float64's); hand back the caller's dtype."""
    u = np.asarray(u)
    dtype = np.result_type(u, 0.0)
    return u.astype(np.float64, copy=False), dtype


def _exp_minus_half_square(u: np.ndarray, scale=1.0) -> np.ndarray:
    """scale·exp(-u**2/2) with u**2 computed exactly as a double-double (valid for |u| <= 40).

    For |u| >= 37.5 the exponential is taken of 64 - u**2/2 (exact) and e^-64 joins the scale, so a
    product that is normal (u²φ(u) up to u ≈ 37.9) is not formed from a subnormal exp(-u**2/2)."""
    s, e = two_product(u, u)
    far = np.abs(u) >= _FAR
    return (np.exp(np.where(far, _SHIFT, 0.0) - 0.5 * s) * (1.0 - 0.5 * e)) * (
        scale * np.where(far, _EXP_MINUS_SHIFT, 1.0)
    )


def npdf(u):
    r"""Standard normal density :math:`\varphi(u) = e^{-u^2/2}/\sqrt{2\pi}`, accurate to a few ULP.

    The rounding of ``u**2`` alone would cost up to ``u**2/2`` ULP (about 700 near u = 37).
    """
    u, dtype = _as_float64(u)
    inside = np.abs(u) <= -_UNDERFLOW
    uu = np.where(inside, u, 0.0)
    return np.where(inside, _exp_minus_half_square(uu) * _INV_SQRT_2PI, 0.0).astype(dtype, copy=False)


_MILLS = None  # (step, [coefficients of each piece as a tuple of floats]), loaded on first use


def _mills(u: np.ndarray) -> np.ndarray:
    r""":math:`e^{u^2/2}\Phi(u) = \operatorname{erfcx}(-u/\sqrt2)/2` for u ≤ 0 (u ≥ −40).

    From the Taylor pieces of ``nnref/_generated/tables.py`` (derivations/tables.py), which cover
    [−40, 0) in steps of 0.5: SciPy's erfcx is off by up to 5.2 ULP on [−6, −0.4]. The pieces'
    coefficients are padded with leading zeros to one degree, so every element runs the same Horner
    steps with its own piece's coefficients gathered (``take``); a leading zero changes no bit.
    (SciPy's erfcx is kept for points below −40, where Φ underflows and the caller discards it.)"""
    global _MILLS
    if _MILLS is None:
        from nnref._generated import tables

        degree = max(len(c) for c in tables.MILLS)
        columns = np.zeros((degree, len(tables.MILLS)))  # columns[j, i]: c_j of piece i
        for i, c in enumerate(tables.MILLS):
            columns[: len(c), i] = c
        _MILLS = (tables.MILLS_STEP, columns)
    step, columns = _MILLS
    u = np.asarray(u, dtype=np.float64)
    piece = np.floor(u * (-1.0 / step))  # step is a power of 2: exact
    inside = piece < columns.shape[1]
    if inside.all():
        return _mills_pieces(u, piece, step, columns)
    out = np.empty(u.shape, dtype=np.float64)
    out[~inside] = 0.5 * scipy.special.erfcx(u[~inside] * -_INV_SQRT_2)
    if inside.any():
        out[inside] = _mills_pieces(u[inside], piece[inside], step, columns)
    return out


def _mills_pieces(u, piece, step, columns):
    k = piece.astype(np.intp)
    d = u + (k + 0.5) * step  # u − u0: exact within a factor 2 of u0
    acc = columns[-1].take(k)
    for row in columns[-2::-1]:
        acc *= d
        acc += row.take(k)
    return acc


def ndtr(u):
    r"""Standard normal CDF :math:`\Phi(u) = \tfrac12\operatorname{erfc}(-u/\sqrt2)`, accurate to a few ULP.

    For u < 0 it is evaluated as :math:`e^{-u^2/2}h(u)`, :math:`h(u) = \operatorname{erfcx}(-u/\sqrt2)/2`:
    the exponent is formed from u exactly (no rounding of u/sqrt(2) magnified by erfc's condition
    number 2x**2), and h comes from polynomial pieces in u itself (``_mills``). SciPy's ``erfc``
    alone is off by up to 458 ULP near x = 26, and ``ndtr`` by 1,558 ULP near u = -36.
    """
    u, dtype = _as_float64(u)
    return _normal_halves(
        u,
        lambda v: 0.5 * scipy.special.erfc(v * -_INV_SQRT_2),
        lambda v: _exp_minus_half_square(v) * _mills(v),
    ).astype(dtype, copy=False)


def _normal_halves(u: np.ndarray, right, left) -> np.ndarray:
    """right(u) where u ≥ 0 (NaN included: it stays NaN), left(u) where −40 ≤ u < 0 and 0 below,
    each computed on its own elements only."""
    out = np.zeros(u.shape, dtype=np.float64)
    negative = u < _TAIL
    rest = ~negative
    if rest.any():
        out[rest] = right(u[rest])
    left_side = negative & (u >= _UNDERFLOW)
    if left_side.any():
        out[left_side] = left(u[left_side])
    return out


def x_npdf(u):
    r""":math:`u\,\varphi(u)`, multiplied by u before the exponential so the tail stays normal longer,
    and 0 (not inf·0 = NaN) for huge |u|."""
    u, dtype = _as_float64(u)
    inside = np.abs(u) <= -_UNDERFLOW
    uu = np.where(inside, u, 0.0)
    return np.where(inside, _exp_minus_half_square(uu, uu * _INV_SQRT_2PI), 0.0).astype(dtype, copy=False)


def x2_npdf(u):
    r""":math:`u^2\varphi(u)`, normal up to u ≈ 37.9 where φ(u) alone is already subnormal (see
    ``_exp_minus_half_square``), and 0 (not inf·0 = NaN) for huge |u|."""
    u, dtype = _as_float64(u)
    inside = np.abs(u) <= -_UNDERFLOW
    uu = np.where(inside, u, 0.0)
    return np.where(inside, _exp_minus_half_square(uu, (uu * uu) * _INV_SQRT_2PI), 0.0).astype(dtype, copy=False)


def x_ndtr(u):
    r""":math:`u\,\Phi(u)` (the GELU): in the left tail u·erfcx(−u/√2)/2 is formed before the tiny
    exp(−u²/2), so the result is a normal number down to u ≈ −37.7 where Φ(u) alone is subnormal."""
    u, dtype = _as_float64(u)
    return _normal_halves(
        u,
        lambda v: v * (0.5 * scipy.special.erfc(v * -_INV_SQRT_2)),
        lambda v: (v * _mills(v)) * _exp_minus_half_square(v),
    ).astype(dtype, copy=False)


def sech2(u):
    r""":math:`\operatorname{sech}^2 u = 4e/(1 + e)^2` with :math:`e = e^{-2|u|}`: one exponential, no
    subtraction, and no overflow (e ≤ 1). ``1/cosh(u)**2`` rounds cosh twice over (4.2 ULP measured)."""
    u = np.asarray(u)
    # The operations of 4.0 * e / (1.0 + e) ** 2, in this order, into two arrays rather than six:
    # on the runtime's blocks each fresh temporary was a page fault per 4 KiB (11 ns per element).
    e = np.empty(u.shape, dtype=np.result_type(u, 0.0))
    np.abs(u, out=e)
    e *= -2.0
    np.exp(e, out=e)
    d = np.add(1.0, e, out=np.empty_like(e))
    np.square(d, out=d)
    e *= 4.0
    e /= d
    return e


def sech2_softplus(u):
    r""":math:`\operatorname{sech}^2(\operatorname{softplus} u)` from :math:`q = e^{-|u|}`, no subtraction
    of nearly equal numbers: for u > 0 it is :math:`4q^2/d^2` with :math:`d = 1 + q(1 + q/(1 + q))`
    (:math:`q^2` taken as :math:`e^{-2u}`, not squared), and for u ≤ 0 it is :math:`1 - t^2` with
    :math:`t = \tanh(\operatorname{softplus} u) = b/(2 + b)`, :math:`b = q(2 + q)`, t ≤ 0.6.
    Composing sech2 with softplus magnifies the rounding of softplus(u) ≈ u 2|u| times (45.6 ULP at
    u = 33.4 in mish''); this measures 3 ULP at worst."""
    u = np.asarray(u)
    a = np.minimum(np.abs(u), 1e3)  # beyond, q and q² are 0: no overflow in 2|u|
    q = np.exp(-a)
    d = 1.0 + q * (1.0 + q / (1.0 + q))
    b = q * (2.0 + q)
    t = b / (2.0 + b)
    return np.where(u > 0, (4.0 * np.exp(-2.0 * a) / d) / d, 1.0 - t * t)


def _writable_copy(closed, z):
    """(z as an array, a copy of ``closed`` shaped like z) for a patch to overwrite some elements of:
    ``closed`` may be shared with another output of the same kernel (f_df), so it is never written."""
    z = np.asarray(z)
    # C order: the patches write through out.reshape(-1), a view only of a C-ordered array
    out = np.array(closed, dtype=np.result_type(closed, z, 0.0), copy=True, order="C")
    return z, (np.broadcast_to(out, z.shape).copy() if out.shape != z.shape else out)


def _same_shape(closed, z: np.ndarray) -> bool:
    """Whether ``closed`` can be returned as it is: an array of z's shape and a floating dtype."""
    return isinstance(closed, np.ndarray) and closed.shape == z.shape and closed.dtype == np.result_type(closed, z, 0.0)


def _horner(coeffs: tuple, d: np.ndarray) -> np.ndarray:
    """Σ_k coeffs[k] d^k, in place: two passes per degree, no allocation after the first."""
    acc = np.full_like(d, coeffs[-1])
    for c in reversed(coeffs[:-1]):
        acc *= d
        acc += c
    return acc


def taylor_patch(closed, z, hi: float, lo: float, radius: float, coeffs: tuple) -> np.ndarray:
    r"""``closed`` except where |z − (hi + lo)| < radius: there Σ_k c_k d^k (k = 0 … N), d = (z − hi) − lo.

    The generated derivative calls this next to an interior zero of f' (derivations/taylor.py),
    c_0 = 0 there, or where f' is flat and its closed form cancels:
    z − hi is exact there (Sterbenz), so d carries one rounding, and the polynomial (Horner) is
    evaluated only on the elements inside the patch.
    """
    z = np.asarray(z)
    distance = np.empty(z.shape, dtype=np.result_type(z, 0.0))
    np.subtract(z, hi, out=distance)
    np.abs(distance, out=distance)
    inside = np.flatnonzero(distance < radius)  # indices: a gather and a scatter cost less than a mask's
    if inside.size == 0 and _same_shape(closed, z):
        return closed  # nothing to patch: no copy
    z, out = _writable_copy(closed, z)
    if inside.size:
        out.reshape(-1)[inside] = _horner(coeffs, (z.reshape(-1)[inside].astype(np.float64) - hi) - lo)
    return out


def exp_tail(closed, z, side: int, n: int, edge: float, coeffs: tuple) -> np.ndarray:
    r"""``closed`` except beyond ``edge`` (z < edge for side −1, z > edge for side +1): there
    P(z)·e^(−n|z|), P = Σ coeffs[k] z^k, as :math:`(P(z)\,e^{-n|z| + 64})\,e^{-64}`.

    The generated f, f' or f'' calls this where it is a polynomial times an exponential far out
    (derivations/tails.py): e^(−n|z|) is subnormal from n|z| ≈ 708 while P(z)·e^(−n|z|) may still be
    normal, and scaled by e^64 nothing is subnormal before the last rounding. n|z| + 64 is exact
    (n is 1 or 2, n|z| ≥ 700). Evaluated only on the elements beyond the edge.
    """
    z = np.asarray(z)
    with np.errstate(invalid="ignore"):
        beyond = (z < edge) if side < 0 else (z > edge)
    beyond &= np.isfinite(z)  # ±inf: the limits, set by the caller
    if _same_shape(closed, z) and not beyond.any():
        return closed  # nothing beyond the edge (the usual case): no copy
    z, out = _writable_copy(closed, z)
    if beyond.any():
        # Beyond n|z| = 2000, e^(−n|z| + 64) is 0 and P(z) could overflow: P at ±2000 keeps the sign.
        zz = np.clip(z[beyond].astype(np.float64), -2000.0, 2000.0)
        acc = _horner(coeffs, zz)
        with np.errstate(under="ignore"):  # beyond n|z| ≈ 809 the result underflows to ±0, as it should
            out[beyond] = (acc * np.exp(-n * np.abs(zz) + _GATE_SHIFT)) * _EXP_MINUS_SHIFT
    return out


def exp_neg_square(u, c_hi: float, c_lo: float):
    r""":math:`e^{-c u^2}` for a constant c = c_hi + c_lo > 0, accurate to about 1 ULP.

    The roundings of u², of c·u² and of c itself each cost up to c u² ULP (700 near underflow).
    Here u² = s + e and c_hi s = p + q exactly (Dekker), and the rest t = q + c_hi e + c_lo s is a
    relative 2⁻⁵² of p at most, so :math:`e^{-(p + t)} = e^{-p}(1 - t)` to well below an ULP.
    """
    u, dtype = _as_float64(u)
    # Beyond |u| = 1e150 Veltkamp's split overflows; there c u² > 1e299 and the value is 0.
    small = np.abs(u) < 1e150
    us = np.where(small, u, 0.0)
    s, e = two_product(us, us)
    p, q = two_product(np.full_like(s, c_hi), s)
    t = q + c_hi * e + c_lo * s
    with np.errstate(invalid="ignore"):  # p = inf only where s is huge: exp(-inf) = 0 then
        out = np.exp(-p) * (1.0 - np.where(np.isfinite(p), t, 0.0))
    return np.where(small, out, np.where(np.isnan(u), u, 0.0)).astype(dtype, copy=False)


def expit_scaled(z, c_hi: float, c_lo: float):
    r""":math:`\sigma(c z)` for a constant c = c_hi + c_lo that float64 cannot hold (1.702, say).

    The rounding of c·z costs up to |c z|/2 ULP in :math:`e^{cz}` (34 ULP at c z = −68). Here
    u = fl(c_hi z) and its error e = (c_hi z − u) + c_lo z are formed exactly enough (Dekker's
    product), and :math:`\sigma(u + e) = \sigma(u) + \sigma(u)\sigma(-u)\,e` to first order in e,
    which is 2⁻⁵² |u| at most.
    """
    z, dtype = _as_float64(z)
    u = c_hi * z
    small = np.abs(z) < 1e150  # beyond, σ is 0 or 1 and Veltkamp's split would overflow
    zs = np.where(small, z, 0.0)
    e = np.where(small, two_product(np.full_like(zs, c_hi), zs)[1] + c_lo * zs, 0.0)
    s = scipy.special.expit(u)
    return (s + s * scipy.special.expit(-u) * e).astype(dtype, copy=False)


_GATE_SHIFT = 64.0  # exp(x + 64) is normal where exp(x) is subnormal; x + 64 is exact for x < -600
_GATE_FAR = -600.0  # below, σ(x) = exp(x) to all digits (1 + exp(x) rounds to 1)


_CUBIC = threading.local()  # per thread (the blockwise pool): the last argument of _cubic_dd and its result
_CUBIC_MAX = 1 << 17  # elements: the most _cubic_dd keeps (one block of the runtime)


def _cubic_dd(v: np.ndarray, c_hi: float, c_lo: float, k: float):
    """(x, x_lo, small, v², v²_lo): x + x_lo = c(v + kv³) and v·v as double-doubles where |v| < 1e4
    (small); beyond, x is ±inf with the sign of c·v, x_lo is 0 (|x| > 7e10: σ is 0 or 1 to all
    digits) and v² is 0.

    A derivative of GELU-tanh's gate calls this with the same v up to five times (f'' has five
    gate nodes): the last v of each thread is kept, as a copy, with its result, and is compared
    element for element before the result is reused. −c gives −x exactly (rounding is symmetric)."""
    sign = 1.0 if c_hi > 0 else -1.0
    key = (sign * c_hi, sign * c_lo, k)
    last = getattr(_CUBIC, "last", None)
    if last is not None and last[0] == key and last[1].shape == v.shape and np.array_equal(last[1], v, equal_nan=True):
        x, x_lo, small, s, e = last[2]
    else:
        x, x_lo, small, s, e = _cubic_dd_of(v, *key)
        # Kept only up to a block's size (the runtime's blocks are 131,072): a whole large array
        # (a standalone module calls this without blocks) would be held six times over.
        _CUBIC.last = (key, v.copy(), (x, x_lo, small, s, e)) if v.size <= _CUBIC_MAX else None
    if sign < 0:
        x, x_lo = -x, -x_lo
    return x, x_lo, small, s, e


def _cubic_dd_of(v: np.ndarray, c_hi: float, c_lo: float, k: float):
    small = np.abs(v) < 1e4  # beyond, v³ may overflow
    vs = np.where(small, v, 0.0)
    s, e = two_product(vs, vs)
    t, f = two_product(vs, s)
    p, g = two_product(np.full_like(t, k), t)
    w, h = two_sum(vs, p)
    w_lo = h + g + k * (f + vs * e)
    x, y = two_product(np.full_like(w, c_hi), w)
    x_lo = np.where(small, y + c_hi * w_lo + c_lo * w, 0.0)
    with np.errstate(invalid="ignore"):  # NaN in v stays NaN
        x = np.where(small, x, np.sign(v) * np.sign(c_hi) * np.inf)
    return x, x_lo, small, s, e


def _expit_compensated(x: np.ndarray) -> np.ndarray:
    """σ(x) = 1/(1 + E), E = exp(−x), with 1 + E a double-double and the quotient corrected by one
    Newton step: only E's own rounding is left (within 0.8 ULP where SciPy's expit reaches 1.4)."""
    with np.errstate(over="ignore"):
        big = np.exp(-x)
    fine = big < 1e150  # beyond, σ = 1/E to all digits (and Dekker's split would overflow)
    e = np.where(fine, big, 0.0)
    s, s_lo = two_sum(np.ones_like(e), e)
    r = 1.0 / s
    p, p_lo = two_product(s, r)
    r = r + r * (((1.0 - p) - p_lo) - s_lo * r)
    with np.errstate(divide="ignore", over="ignore"):  # 1/E only where E ≥ 1e150
        return np.where(fine, r, 1.0 / big)


def _times_expit_dd(m, x, x_lo):
    """m·σ(x + x_lo), with σ(x + x_lo) = σ(x) + σ(x)σ(−x)x_lo to first order in x_lo, and below
    x = −600 (σ(x) = e^x, subnormal from x ≈ −708) as (m e^{x + 64}(1 + x_lo))e^{−64}: no
    subnormal before the last rounding."""
    sig = _expit_compensated(x)
    # 1 − σ(x) stands for σ(−x): where it cancels (x > 0) the correction term is below 2⁻¹⁰⁰ of σ.
    with np.errstate(invalid="ignore", over="ignore"):  # inf·0 only where special values are set
        out = m * (sig + sig * (1.0 - sig) * x_lo)
        far = x < _GATE_FAR
        if far.any():
            tail = (m * (np.exp(np.where(far, x, 0.0) + _GATE_SHIFT) * (1.0 + x_lo))) * _EXP_MINUS_SHIFT
            out = np.where(far, tail, out)
    return out


def expit_cubic(v, c_hi: float, c_lo: float, k: float, m=1.0):
    r""":math:`m\,\sigma(c(v + k v^3))` for constants c = c_hi + c_lo and k (GELU-tanh's gate).

    σ(x) has condition number |x|σ(−x), so the rounding of x = c(v + kv³) alone costs up to |x|/2
    ULP (810 in gelu_tanh at v = −18). Here v³ = v·v² and c·(v + kv³) are formed as double-doubles
    x + x_lo (Dekker's product, Knuth's sum), and :math:`\sigma(x + x_{lo}) = \sigma(x) +
    \sigma(x)\sigma(-x)\,x_{lo}` to first order in x_lo (2⁻⁵² |x| at most). Below x = −600, where
    σ(x) = e^x and is subnormal from x ≈ −708 while m·σ(x) may still be normal, the result is
    :math:`(m\,e^{x + 64}(1 + x_{lo}))\,e^{-64}`: no subnormal before the last rounding.
    """
    v, dtype = _as_float64(v)
    m = np.asarray(m, dtype=np.float64)
    x, x_lo = _cubic_dd(v, c_hi, c_lo, k)[:2]
    out = _times_expit_dd(m, x, x_lo)
    return np.asarray(out).astype(dtype, copy=False)


def expit_cubic_slope(v, c_hi: float, c_lo: float, k: float, m=1.0, a=0.0):
    r""":math:`a + m\,c(1 + 3kv^2)\,\sigma(-c(v + k v^3))`: m times the derivative of
    log σ(c(v + kv³)), the factor every derivative of GELU-tanh's gate carries, plus a.

    Written out, m·c(1 + 3kv²)·σ(−x) + a is seven roundings (v², the constants, three products,
    the sum) and costs up to 4.3 ULP in gelu_tanh's f' = σ(x)(1 + z·c(1 + 3kz²)σ(−x)). Here
    m·c(1 + 3kv²) is a double-double (3k is rounded once, as the textbook derivative's constant
    is), σ(−x) is taken at the double-double x + x_lo of ``expit_cubic``, and the product and the
    sum are rounded once. Where |v| ≥ 1e4 the result is a + m·c(1 + 3kv²) (rounded plainly,
    possibly ±inf) where σ(−x) is 1, and a where it is 0.
    """
    v, dtype = _as_float64(v)
    m = np.broadcast_to(np.asarray(m, dtype=np.float64), v.shape)
    a = np.broadcast_to(np.asarray(a, dtype=np.float64), v.shape)
    x, x_lo, small, s, e = _cubic_dd(v, c_hi, c_lo, k)
    k3 = 3.0 * k
    p, g = two_product(np.full_like(s, k3), s)
    w, h = two_sum(np.ones_like(p), p)
    w_lo = h + g + k3 * e
    q, y = two_product(np.full_like(w, c_hi), w)
    q_lo = y + c_hi * w_lo + c_lo * w
    fine = small & (np.abs(m) < 1e140)  # |m·q| < 1e150: Dekker's split holds (NaN: not fine)
    ms = np.where(fine, m, 0.0)
    mq, r = two_product(ms, q)
    mq_lo = r + ms * q_lo
    # σ(−x − x_lo) = sig − sig·(1 − sig)·x_lo to first order; the product with mq + mq_lo as a
    # double-double, then a added to it by Knuth's sum: one rounding at the end.
    sig = _expit_compensated(-x)
    with np.errstate(invalid="ignore", over="ignore"):
        prod, prod_err = two_product(mq, sig)
        prod_lo = prod_err + mq_lo * sig - mq * sig * (1.0 - sig) * x_lo
        total, total_err = two_sum(a, prod)
        out = total + (total_err + prod_lo)
        far = -x < _GATE_FAR  # σ(−x) = e^(−x), subnormal from −x ≈ −708 where the product may be normal
        if far.any():
            rel = mq_lo / np.where(mq != 0, mq, 1.0) - x_lo
            tail = (mq * (np.exp(np.where(far, -x, 0.0) + _GATE_SHIFT) * (1.0 + rel))) * _EXP_MINUS_SHIFT
            out = np.where(far, a + tail, out)
        if not fine.all():
            gate = scipy.special.expit(-x)
            plain = a + np.where(gate == 0, 0.0, m * (c_hi * (1.0 + k3 * v * v)) * gate)
            out = np.where(fine, out, plain)
    return np.asarray(out).astype(dtype, copy=False)


_LN2 = (0.6931471805599453, 2.3190468138462996e-17, 5.707708438416212e-34)  # ln 2 = hi + mid + lo
_INV_LN2 = 1.4426950408889634


def _dd_mul(a, a_lo, b, b_lo):
    """(a + a_lo)(b + b_lo) as a double-double, to about 2⁻¹⁰⁴ relative."""
    p, e = two_product(a, b)
    return _fast_two_sum(p, e + (a * b_lo + a_lo * b))


def _fast_two_sum(a, b):
    """(s, e) with s + e = a + b exactly, for |a| ≥ |b| (Dekker)."""
    s = a + b
    return s, b - (s - a)


def _dd_add(a, a_lo, b, b_lo):
    """(a + a_lo) + (b + b_lo) as a double-double (Knuth's sum of the leading parts)."""
    s, e = two_sum(a, b)
    return _fast_two_sum(s, e + (a_lo + b_lo))


def _inverse_factorials(n: int) -> tuple[tuple[float, float], ...]:
    """1/k! for k = 0 … n as double-doubles (hi, lo), exactly rounded from the rational."""
    from fractions import Fraction

    out, f = [], Fraction(1)
    for k in range(n + 1):
        f = f / k if k else f
        hi = float(f)
        out.append((hi, float(f - Fraction(hi))))
    return tuple(out)


_INV_FACTORIAL = _inverse_factorials(30)


def _series_dd(coeffs, r, r_lo, exact_terms: int):
    """Σ_i c_i r^i (Horner) for double-double c_i and r: the terms from i = exact_terms on in
    float64 (the caller makes them small enough that their rounding is below 2⁻¹⁰⁶ of the sum)."""
    acc = np.full_like(r, coeffs[-1][0])
    for hi, _ in reversed(coeffs[exact_terms:-1]):
        acc = acc * r + hi
    acc_lo = np.zeros_like(acc)
    for hi, lo in reversed(coeffs[:exact_terms]):
        acc, acc_lo = _dd_mul(acc, acc_lo, r, r_lo)
        acc, acc_lo = _dd_add(acc, acc_lo, np.full_like(acc, hi), np.full_like(acc, lo))
    return acc, acc_lo


def exp_dd(x):
    r""":math:`e^x` as a double-double (hi, lo), relative error about 2⁻¹⁰⁴, for −708 ≤ x ≤ 0.

    x = k ln 2 + r with |r| ≤ ln2/2, r formed as a double-double from ln 2 in three parts (x − k·hi
    is exact by Sterbenz); e^r by its Taylor series to r²⁴/24!, the terms from r¹⁵ on in float64;
    then 2^k, exact while the result is normal. NumPy's ``exp`` is within an ULP (2⁻⁵³), which is
    all a cancellation like σ(z) − y ≈ 0 cannot afford.
    """
    x = np.asarray(x, dtype=np.float64)
    k = np.rint(x * _INV_LN2)
    p, pe = two_product(k, np.full_like(k, _LN2[0]))
    q, qe = two_product(k, np.full_like(k, _LN2[1]))
    r, e1 = two_sum(x - p, -pe)  # x − p is exact (Sterbenz); each sum keeps its rounding error
    r, e2 = two_sum(r, -q)
    r, r_lo = _fast_two_sum(r, (e1 + e2) - (qe + k * _LN2[2]))
    # |r| ≤ ln2/2: r²⁵/25! < 2⁻¹²⁰, and from r¹⁵/15! < 2⁻⁶² on the terms are summed in float64
    acc, acc_lo = _series_dd(_INV_FACTORIAL[:25], r, r_lo, 15)
    return np.ldexp(acc, k.astype(np.int64)), np.ldexp(acc_lo, k.astype(np.int64))


def expm1_dd(x):
    r""":math:`e^x - 1` as a double-double, relative error about 2⁻¹⁰⁴, for |x| ≤ 1: its Taylor
    series to x³⁰/30!, the terms from x²⁰/20! on in float64. No 1 is ever subtracted, so a tiny
    x keeps every digit."""
    x = np.asarray(x, dtype=np.float64)
    acc, acc_lo = _series_dd(_INV_FACTORIAL[1:31], x, np.zeros_like(x), 19)
    return _dd_mul(acc, acc_lo, x, np.zeros_like(x))


_EXPIT_MINUS_FAR = 600.0  # beyond |z| = 600 e^-|z| and its low part would not both be normal


def expit_minus(z, y):
    r""":math:`\sigma(z) - y`, the gradient of binary cross-entropy from logits: within 3 ULP for a
    soft label too, however close σ(z) comes to y (to 50 bits).

    It is :math:`(1 - y)\sigma(z) - y\sigma(-z)`, both σ from one e = exp(−|z|): no subtraction at
    all for y ∈ {0, 1}. For a soft label 0 < y < 1 the two terms cancel near σ(z) = y and magnify
    the roundings of σ (12.8 ULP at z = −1, y = 0.3, and without bound closer in), so where they
    are within a factor 3 of each other (and |z| ≤ 600) the difference is formed in double-double
    arithmetic instead, from e^{−|z|} good to 2⁻¹⁰⁴ (``exp_dd``, ``expm1_dd``):

    * |z| > 1: :math:`((1 - y) - y e)/(1 + e)` for z > 1, :math:`((1 - y)e - y)/(1 + e)` for z < −1:
      an error of 2⁻¹⁰⁴ σ(z) at most;
    * |z| ≤ 1: :math:`(\sigma(z) - \tfrac12) - (y - \tfrac12)`, with
      :math:`\sigma(z) - \tfrac12 = \operatorname{sign}(z)\,m/(2(2 - m))` and
      :math:`m = 1 - e^{-|z|}`: an error of 2⁻¹⁰⁴ |σ(z) − ½| at most, so y near ½ loses nothing.

    Measured against mpmath over 20,000 soft labels and logits from far off to the doubles next to
    logit(y): 2.8 ULP at worst, wherever σ(z) and y differ in their first 50 bits. Closer than that
    the error stays below 2⁻¹⁰³ σ(z), more than an ULP of so small a difference: keeping every
    digit there would take more than double-double precision. Cost: 7 times the textbook form on
    uniformly random soft labels; none added for y ∈ {0, 1}.
    """
    z, y = np.broadcast_arrays(np.asarray(z), np.asarray(y))
    dtype = np.result_type(z, y, 0.0)
    z = z.astype(np.float64, copy=False)
    y = y.astype(np.float64, copy=False)
    with np.errstate(invalid="ignore"):
        e = np.exp(-np.abs(z))
        up = z >= 0
        s_pos = 1.0 / (1.0 + e)  # σ(|z|)
        s_neg = e * s_pos  # σ(−|z|)
        a = (1.0 - y) * np.where(up, s_pos, s_neg)
        b = y * np.where(up, s_neg, s_pos)
        out = np.array(a - b, dtype=np.float64)  # an array even for 0-d input: written below
        fix = (2.0 * np.abs(out) < a + b) & (np.abs(z) <= _EXPIT_MINUS_FAR)  # a, b within a factor 3
    if fix.any():
        out[fix] = _expit_minus_dd(z[fix], y[fix])
    return out.astype(dtype, copy=False)


def _expit_minus_dd(z, y):
    """σ(z) − y for 0 < y < 1 and |z| ≤ 600, in double-double arithmetic (see ``expit_minus``)."""
    out = np.empty_like(z)
    near = np.abs(z) <= 1.0
    if near.any():  # (σ(z) − ½) − (y − ½), σ(z) − ½ = sign(z)·m/(2(2 − m)), m = 1 − e^{−|z|}
        zn, yn = z[near], y[near]
        m, m_lo = expm1_dd(-np.abs(zn))  # −m, in fact: e^{−|z|} − 1
        t, t_lo = two_sum(np.full_like(m, 2.0), m)  # 2 − m = 1 + e^{−|z|}
        h, h_lo = _dd_div(-m, -m_lo, 2.0 * t, 2.0 * (t_lo + m_lo))
        sign = np.where(zn < 0, -1.0, 1.0)
        c, c_lo = two_sum(yn, np.full_like(yn, -0.5))  # y − ½, exactly
        out[near] = np.add(*_dd_add(sign * h, sign * h_lo, -c, -c_lo))
    far = ~near
    if far.any():  # ((1 − y) − y e)/(1 + e) for z > 1, ((1 − y)e − y)/(1 + e) for z < −1
        zf, yf = z[far], y[far]
        e, e_lo = exp_dd(-np.abs(zf))
        w, w_lo = two_sum(np.ones_like(yf), -yf)  # 1 − y, exactly
        up = zf > 0
        ye, ye_lo = _dd_mul(yf, np.zeros_like(yf), e, e_lo)
        we, we_lo = _dd_mul(w, w_lo, e, e_lo)
        n, n_lo = _dd_add(
            np.where(up, w, we), np.where(up, w_lo, we_lo), -np.where(up, ye, yf), -np.where(up, ye_lo, 0.0)
        )
        d, d_lo = two_sum(np.ones_like(e), e)
        out[far] = np.add(*_dd_div(n, n_lo, d, d_lo + e_lo))
    return out


def _dd_div(n, n_lo, d, d_lo):
    """(n + n_lo)/(d + d_lo) as a double-double: the quotient and its remainder's correction."""
    q = n / d
    p, pe = two_product(q, d)
    return _fast_two_sum(q, (((n - p) - pe) + n_lo - q * d_lo) / d)


def xdivy(x, u):
    r""":math:`x/u`, and 0 wherever x = 0, u = 0 included (the derivative of ``xlogy`` under the
    convention 0·log 0 = 0); ±inf where x ≠ 0 and u = 0. No division is done where x = 0."""
    x, u = np.broadcast_arrays(np.asarray(x), np.asarray(u))
    out = np.zeros(x.shape, dtype=np.result_type(x, u, np.float32))
    np.divide(x, u, out=out, where=x != 0)
    return out


def special_values(z, value, at_minus_inf, at_plus_inf):
    r"""``value`` (computed from z) with the IEEE special inputs made right: NaN where z is NaN, and
    the mathematical limit where z is ±inf (``None``: the computed value is kept).

    A generated result returns through this unless `nnref derive` found that its code already gets
    NaN and ±inf right without it (derivations/codegen.py, ``_right_unguarded``). Formulas that are right for every
    finite z can still meet inf·0 or inf/inf at ±inf (silu's z·σ(z) at −inf), and a piecewise form
    maps NaN to its last branch, because every comparison with NaN is False (relu's
    where(z > 0, 1, 0) gave relu'(NaN) = 0). One pass (``isfinite(z).all()``) finds the usual case,
    all finite, and returns ``value`` untouched.
    """
    z = np.asarray(z)
    if not isinstance(value, (np.ndarray, np.generic)) or np.shape(value) != z.shape:
        # a constant (relu'' = 0) answers with an array shaped like z, not Python's int 0
        value = np.full(z.shape, value, dtype=np.result_type(value, z, 0.0))
    if np.isfinite(z).all():
        return value
    out = np.array(value, dtype=np.result_type(value, z))
    out[np.isnan(z)] = np.nan
    for limit, where in ((at_minus_inf, z == -np.inf), (at_plus_inf, z == np.inf)):
        if limit is not None:
            out[where] = limit
    return out
