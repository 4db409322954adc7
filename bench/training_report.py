"""Writes the Training walkthrough's figures and numbers: `python -m bench.training_report`.

Trains nnref.MLP on the digits (training and held-out loss curves, held-out accuracy, time), the
same network as nnref.MLPClassifier under scikit-learn's 5-fold cross-validation, the 2-D moons
and spirals (decision boundaries), and a learning rate that diverges on the moons (the message fit
stops with, and the run without the check), with fixed seeds, and writes docs/reference/training/.
Figures are SVG with a fixed hash salt and no date, so an unchanged run writes identical files.
"""

from __future__ import annotations

import platform
import time
from pathlib import Path

import numpy as np

from nnref import datasets
from nnref.mlp import MLP

OUT = Path(__file__).resolve().parent.parent / "docs" / "reference" / "training"
HEADER = "<!-- Written by `python -m bench.training_report` (measurements: rerun it to refresh). -->\n"


def _plt():
    from derivations.common import pyplot

    return pyplot()


def _save(fig, name: str) -> None:
    from derivations.common import svg_text

    (OUT / name).write_text(svg_text(fig, HEADER.replace("<!--", "<!-- figure:")), encoding="utf-8")


def digits() -> dict:
    X, y = datasets.load("digits")
    Xtr, ytr, Xte, yte = datasets.split(X, y, seed=0)
    rows = []
    for seed in (0, 1, 2):
        model = MLP([64, 512, 10], epochs=60, seed=seed)
        start = time.perf_counter()
        model.fit(Xtr, ytr, validation=(Xte, yte))
        rows.append((seed, model.score(Xtr, ytr), model.score(Xte, yte), time.perf_counter() - start, model))
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    for seed, *_, model in rows:
        epochs = range(1, len(model.history) + 1)
        (line,) = ax.plot(epochs, model.history, label=f"seed {seed}, training")
        ax.plot(epochs, model.val_history, linestyle="--", color=line.get_color(), label=f"seed {seed}, held-out")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cost")
    ax.set_title("digits, MLP 64-512-10 (relu, softmax cross-entropy, Adam)")
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    _save(fig, "digits_loss.svg")
    # The notebook's architecture on a binary digits task (0 against 1).
    keep = (y == 0) | (y == 1)
    Xb_tr, yb_tr, Xb_te, yb_te = datasets.split(X[:, keep], y[keep], seed=0)
    notebook = MLP([64, 20, 7, 5, 1], loss="binary_cross_entropy", optimizer="gd", lr=0.1, epochs=300, seed=1)
    start = time.perf_counter()
    notebook.fit(Xb_tr, yb_tr)
    binary = (notebook.score(Xb_te, yb_te), time.perf_counter() - start)
    return {"rows": rows, "binary": binary, "sizes": (Xtr.shape[1], Xte.shape[1]), "cv": cross_validation(X, y)}


def cross_validation(X, y) -> tuple[float, float, float]:
    """The same network as a scikit-learn estimator: 5-fold cross-validated accuracy on the rows."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    from nnref import MLPClassifier

    start = time.perf_counter()
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    scores = cross_val_score(MLPClassifier(hidden=(512,), epochs=60, seed=0), X.T, y, cv=folds)
    return float(scores.mean()), float(scores.std()), time.perf_counter() - start


def boundaries() -> None:
    """Moons and spirals: trained on 80% of the points (filled), scored on the held-out 20% (rings)."""
    plt = _plt()
    from matplotlib.lines import Line2D

    fig, axes = plt.subplots(1, 2, figsize=(8, 4.2))
    for ax, (name, hidden, epochs) in zip(axes, (("moons", [32, 32], 200), ("spirals", [64, 64], 400))):
        X, y = datasets.load(name, seed=0)
        X_train, y_train, X_test, y_test = datasets.split(X, y, held_out=0.2, seed=0)
        model = MLP([2, *hidden, 2], activation="tanh", init="xavier", lr=3e-3, epochs=epochs, seed=0)
        model.fit(X_train, y_train)
        xs = np.linspace(X[0].min() - 0.3, X[0].max() + 0.3, 200)
        ys = np.linspace(X[1].min() - 0.3, X[1].max() + 0.3, 200)
        gx, gy = np.meshgrid(xs, ys)
        proba = model.predict_proba(np.vstack([gx.ravel(), gy.ravel()]))[1].reshape(gx.shape)
        ax.contourf(gx, gy, proba, levels=20, cmap="RdBu_r", alpha=0.6)
        ax.contour(gx, gy, proba, levels=[0.5], colors="k", linewidths=1)
        ax.scatter(X_train[0], X_train[1], c=y_train, cmap="RdBu_r", vmin=0, vmax=1, s=6, edgecolors="none")
        ax.scatter(
            X_test[0], X_test[1], c="none", s=18, linewidths=0.9, edgecolors=np.where(y_test == 1, "#67001f", "#053061")
        )
        ax.set_title(
            f"{name}: train {model.score(X_train, y_train):.1%}, held-out {model.score(X_test, y_test):.1%}",
            fontsize=10,
        )
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
    key = [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markersize=4,
            markerfacecolor="#b2182b",
            markeredgecolor="none",
            label="train, class 1",
        ),
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markersize=4,
            markerfacecolor="#2166ac",
            markeredgecolor="none",
            label="train, class 0",
        ),
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markersize=6,
            markerfacecolor="none",
            markeredgecolor="#67001f",
            label="held-out, class 1",
        ),
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markersize=6,
            markerfacecolor="none",
            markeredgecolor="#053061",
            label="held-out, class 0",
        ),
        Line2D([], [], color="k", linewidth=1, label="boundary, p = 0.5"),
    ]
    fig.legend(handles=key, loc="lower center", ncol=5, frameon=False, fontsize=8)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    _save(fig, "boundaries.svg")


def divergence() -> str:
    """What `nnref train --dataset moons --optimizer gd --lr 1000` meets: the message fit stops with,
    and the same run with the check switched off."""
    import warnings

    from nnref import mlp

    X, y = datasets.load("moons", seed=0)
    Xtr, ytr, Xte, yte = datasets.split(X, y, seed=0)
    settings = dict(layers=[2, 32, 32, 1], loss="binary_cross_entropy", optimizer="gd", lr=1000, epochs=200, seed=0)
    try:
        MLP(**settings).fit(Xtr, ytr)
        message = "(no divergence detected)"
    except FloatingPointError as exc:
        message = str(exc)
    factor, mlp.DIVERGENCE_FACTOR = mlp.DIVERGENCE_FACTOR, float("inf")
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            unguarded = MLP(**settings).fit(Xtr, ytr)
    finally:
        mlp.DIVERGENCE_FACTOR = factor
    h = unguarded.history
    return "\n".join(
        [
            HEADER,
            "```text",
            "$ nnref train --dataset moons --optimizer gd --lr 1000",
            f"nnref train: {message}",
            "```",
            "",
            f"The same run with the check switched off: the cost after epochs 1, 2 and 3 is {h[0]:.3g}, {h[1]:.3g} and "
            f"{h[2]:.3g}; over the remaining {len(h) - 3} epochs it stays finite, between {min(h[3:]):.3g} and "
            f"{max(h[3:]):.3g}, and the held-out accuracy ends at {unguarded.score(Xte, yte):.2%}.",
            "",
        ]
    )


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    result = digits()
    boundaries()
    lines = [HEADER, "| seed | train accuracy | held-out accuracy | training time |", "|---|---|---|---|"]
    for seed, train, test, seconds, _ in result["rows"]:
        lines.append(f"| {seed} | {train:.2%} | {test:.2%} | {seconds:.1f} s |")
    acc, seconds = result["binary"]
    lines.append("")
    lines.append(
        f"Training set {result['sizes'][0]} images, held-out {result['sizes'][1]}. The notebook's architecture "
        f"([LINEAR→RELU]×3→LINEAR→SIGMOID, 64-20-7-5-1, binary cross-entropy, full-batch gradient descent) on 0 "
        f"against 1: held-out accuracy {acc:.2%} in {seconds:.1f} s. Measured on {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}."
    )
    mean, std, seconds = result["cv"]
    lines.append("")
    lines.append(
        f"As `nnref.MLPClassifier(hidden=(512,), epochs=60)` under scikit-learn's `cross_val_score` (5 stratified "
        f"folds of all 1,797 images, one per row): accuracy {mean:.2%} ± {std:.2%} in {seconds:.1f} s."
    )
    (OUT / "results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (OUT / "divergence.md").write_text(divergence(), encoding="utf-8")
    print((OUT / "results.md").read_text())


if __name__ == "__main__":
    main()
