"""Tables the primitives read: polynomial pieces of functions NumPy and SciPy get wrong by a few ULP.

One table today, for the left half of the standard normal CDF that gelu's f, f' and f'' are built
on. For u < 0, nnref forms Φ(u) = h(u)·e^(−u²/2) with

    h(u) = e^(u²/2)·Φ(u) = erfcx(−u/√2)/2,

the exponential as a double-double (``nnref._primitives._exp_minus_half_square``). SciPy's erfcx is
off by up to 5.2 ULP on [0.3, 4] and its erfc by up to 9.7 (measured against mpmath), which left
gelu's f at 6 ULP. h is smooth and slowly varying, so on [−40, 0) (below −40 Φ underflows) it is
taken instead from 80 Taylor polynomials about u0 = −0.25, −0.75, …, −39.75 (|u − u0| ≤ 0.25
each, every centre a float64 so u − u0 rounds at most once), each of the lowest degree whose first
omitted term is below 2⁻⁵⁶ of h at both edges (15 next to 0, 7 near −40). Their coefficients
follow from h' = u·h + 1/√(2π) by a recurrence, at 80 digits from one mpmath erfc per piece
(``mills_coefficients``), and Σ|c_k| 0.25^k is at most 1.43 h (so Horner's rounding stays near
an ULP).

`nnref derive` writes them to ``nnref/_generated/tables.py``.
"""

from __future__ import annotations

import mpmath as mp


def mills(u):
    """e^(u²/2)·Φ(u) = e^(u²/2)·erfc(−u/√2)/2 in mpmath, for real or complex u. (Not through SymPy,
    which rewrites erfc(−x) as 2 − erfc(x): 0 at 80 digits for u < −19.)"""
    return mp.exp(u * u / 2) * mp.erfc(-u / mp.sqrt(2)) / 2


STEP = 0.5  # each piece covers [u0 − 0.25, u0 + 0.25)
PIECES = 80  # [−40, 0): below −40 Φ(u) underflows
MAX_DEGREE = 30


def mills_coefficients(u0, n: int) -> list:
    """c_0 … c_n of h's Taylor series about u0, at the working precision.

    h' = u·h + 1/√(2π) (differentiate e^(u²/2)Φ(u)), and differentiating that k times gives
    h^(k+1) = u·h^(k) + k·h^(k−1): so (k + 1)·c_(k+1) = u0·c_k + c_(k−1), from c_0 = h(u0) and
    c_1 = u0·c_0 + 1/√(2π). One erfc per piece, where Cauchy's formula took 96 complex ones."""
    c = [mills(u0)]
    c.append(u0 * c[0] + 1 / mp.sqrt(2 * mp.pi))
    for k in range(1, n):
        c.append((u0 * c[k] + c[k - 1]) / (k + 1))
    return c


def mills_table() -> list[tuple[float, list[float]]]:
    """[(u0, [c_0 … c_n])] of h about each centre, n the lowest degree whose first omitted term is
    below 2⁻⁵⁶ of h at both edges (15 next to 0, 7 near −40)."""
    out = []
    with mp.workdps(80):
        r = mp.mpf(STEP) / 2
        for i in range(PIECES):
            u0 = -(i + 0.5) * STEP
            coeffs = mills_coefficients(mp.mpf(u0), MAX_DEGREE + 1)
            edge = min(mills(mp.mpf(u0) - r), mills(mp.mpf(u0) + r))
            degree = next(
                (n for n in range(1, MAX_DEGREE + 1) if abs(coeffs[n + 1]) * r ** (n + 1) <= mp.mpf(2) ** -56 * edge),
                None,
            )
            if degree is None:  # pragma: no cover - a change of STEP
                raise ArithmeticError(f"h about {u0}: no degree up to {MAX_DEGREE} meets 2^-56 of h")
            out.append((u0, [float(c) for c in coeffs[: degree + 1]]))
    return out


def module_text() -> str:
    from derivations.codegen import HEADER

    rows = []
    for u0, coeffs in mills_table():
        rows.append(f"    # about u0 = {u0!r}")
        rows.append("    (" + ", ".join(repr(c) for c in coeffs) + "),")
    return "\n".join(
        [
            HEADER.format(source="tables.py").rstrip("\n"),
            '"""Polynomial pieces the primitives read (derivations/tables.py says how they are made)."""',
            "",
            f"#: e^(u²/2)·Φ(u) on [{-PIECES * STEP!r}, 0): piece i is c_0 … c_n of its Taylor series about",
            f"#: u0 = −(i + 0.5)·{STEP!r}, for |u − u0| ≤ {STEP / 2!r}.",
            f"MILLS_STEP = {STEP!r}",
            "MILLS = (",
            *rows,
            ")",
            "",
        ]
    )
