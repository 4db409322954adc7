"""`nnref train`: train an MLP on a bundled data set and report held-out accuracy and a loss curve."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from nnref import activations as _activations
from nnref.datasets import NAMES

DEFAULTS = {
    "digits": {"layers": "512", "epochs": 60, "lr": 1e-3, "batch_size": 32},
    "moons": {"layers": "32,32", "epochs": 200, "lr": 3e-3, "batch_size": 32},
    "circles": {"layers": "32,32", "epochs": 200, "lr": 3e-3, "batch_size": 32},
    "spirals": {"layers": "64,64", "epochs": 400, "lr": 3e-3, "batch_size": 32},
}


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be ≥ 1, got {value}")
    return value


def _layers(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected hidden sizes like 128,64; got {text!r}") from None
    if not sizes or any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"expected positive hidden sizes like 128,64; got {text!r}")
    return sizes


def _activation(text: str) -> str:
    if text not in _activations.names() or text in ("softmax", "log_softmax"):
        known = ", ".join(n for n in _activations.names() if n not in ("softmax", "log_softmax"))
        raise argparse.ArgumentTypeError(f"unknown hidden activation {text!r}; known: {known}")
    return text


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", choices=NAMES, default="digits", help="default: %(default)s")
    parser.add_argument("--seed", type=int, default=0, help="makes the run reproducible bit for bit")
    parser.add_argument("--layers", type=_layers, help="hidden sizes, e.g. 128,64 (default per dataset)")
    parser.add_argument("--activation", type=_activation, default="relu", help="hidden activation (default: relu)")
    parser.add_argument(
        "--loss",
        choices=("softmax_cross_entropy", "binary_cross_entropy"),
        help="default: softmax_cross_entropy (binary_cross_entropy for the 2-class sets)",
    )
    parser.add_argument("--optimizer", choices=("gd", "sgd", "adam"), default="adam")
    parser.add_argument("--lr", type=_positive_float, help="learning rate (default per dataset)")
    parser.add_argument("--epochs", type=_positive_int, help="default per dataset")
    parser.add_argument("--batch-size", type=_positive_int, help="default: 32")
    parser.add_argument("--init", choices=("small", "xavier", "he"), default="he")
    parser.add_argument("--weight-decay", type=float, default=0.0)
    parser.add_argument("--out", type=Path, default=Path("nnref-train-output"), help="folder for the loss curve")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from nnref import datasets
    from nnref.mlp import MLP

    defaults = DEFAULTS[args.dataset]
    X, y = datasets.load(args.dataset, seed=args.seed)
    X_train, y_train, X_test, y_test = datasets.split(X, y, seed=args.seed)
    n_classes = int(y.max()) + 1
    loss = args.loss or ("binary_cross_entropy" if n_classes == 2 else "softmax_cross_entropy")
    if loss == "binary_cross_entropy" and n_classes != 2:
        print(f"nnref train: binary_cross_entropy needs 2 classes; {args.dataset} has {n_classes}", file=sys.stderr)
        return 2
    hidden = args.layers or _layers(defaults["layers"])
    outputs = 1 if loss == "binary_cross_entropy" else n_classes
    epochs = args.epochs or defaults["epochs"]
    model = MLP(
        [X.shape[0], *hidden, outputs],
        activation=args.activation,
        loss=loss,
        init=args.init,
        optimizer=args.optimizer,
        lr=args.lr or defaults["lr"],
        weight_decay=args.weight_decay,
        epochs=epochs,
        batch_size=args.batch_size or defaults["batch_size"],
        seed=args.seed,
    )
    print(
        f"nnref train: {args.dataset}, {X_train.shape[1]} training / {X_test.shape[1]} held-out examples; "
        f"layers {model.layers}, {args.activation}, {loss}, {args.optimizer}, {model.n_parameters} parameters"
    )
    bar = None
    if not args.no_progress:
        from tqdm import tqdm

        bar = tqdm(total=epochs, unit="epoch", file=sys.stderr, dynamic_ncols=True)

    def progress(epoch, value):
        if bar is not None:
            bar.set_postfix(loss=f"{value:.4f}")
            bar.update(1)

    start = time.perf_counter()
    try:
        model.fit(X_train, y_train, progress=progress)
    except FloatingPointError as exc:
        if bar is not None:
            bar.close()
        print(f"nnref train: {exc}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - start
    if bar is not None:
        bar.close()
    train_acc, test_acc = model.score(X_train, y_train), model.score(X_test, y_test)
    args.out.mkdir(parents=True, exist_ok=True)
    curve = args.out / f"loss-{args.dataset}.png"
    _plot_loss(model.history, curve, args.dataset)
    print(f"train accuracy    {train_acc:.2%}")
    print(f"held-out accuracy {test_acc:.2%}")
    print(f"time              {seconds:.1f} s for {epochs} epochs")
    print(f"loss curve        {curve}")
    return 0


def _plot_loss(history, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(range(1, len(history) + 1), history)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax.set_title(f"nnref train --dataset {title}")
    ax.grid(alpha=0.3)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
