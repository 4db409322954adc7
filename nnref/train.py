"""`nnref train`: train an MLP on a bundled data set and report held-out accuracy and a loss curve.

Every argument is checked before any work (the --out folder included), and a bad one exits 2
with a message naming it. ``--layers`` means what ``MLP(layers)`` means: every size, input
first; ``--hidden`` gives the hidden sizes alone and lets the data set fix the other two.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import time
import warnings
from pathlib import Path

from nnref import activations as _activations
from nnref.datasets import NAMES

DEFAULTS = {
    "digits": {"hidden": "512", "epochs": 60, "lr": 1e-3, "batch_size": 32},
    "moons": {"hidden": "32,32", "epochs": 200, "lr": 3e-3, "batch_size": 32},
    "circles": {"hidden": "32,32", "epochs": 200, "lr": 3e-3, "batch_size": 32},
    "spirals": {"hidden": "64,64", "epochs": 400, "lr": 3e-3, "batch_size": 32},
}

#: The toy sets are drawn by scikit-learn and NumPy generators, which take 32-bit seeds.
MAX_SEED = 2**32 - 1

_HIDDEN = tuple(n for n in _activations.names() if n not in ("softmax", "log_softmax"))

EPILOG = """\
--layers lists every size, input first, as MLP(layers) does: for digits, --layers 64,512,10
(the first must be the data set's number of features, the last its number of classes, or 1
with --loss binary_cross_entropy). --hidden lists only the hidden sizes: --hidden 512.

--activation takes a registry name, a formula in z (derived, proven and compiled as by
`nnref custom`, unverified for speed), or a module written by `nnref custom --out FILE.py`.

Outputs: the accuracies and the time on stdout; OUT/loss-DATASET.png, the training and the
held-out cost per epoch. An existing file is never replaced unless --force.

Exit status: 0 trained (with a warning if the cost ended above where it started); 1 training
diverged: the cost overflowed or rose above 100 times its starting value (the message names the
epoch and suggests a smaller learning rate); 2 bad arguments (nothing trained, nothing written).
"""


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a finite number ≥ 0, got {text}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be ≥ 1, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to {MAX_SEED} (2**32 − 1), got {value}")
    return value


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes like 64,128,10; got {text!r}") from None
    if not sizes or any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"expected positive sizes like 64,128,10; got {text!r}")
    return sizes


def _activation(text: str) -> str:
    """A registry name, a .py module or a formula; names are checked here, the rest in run()."""
    if re.fullmatch(r"[A-Za-z_]\w*", text) and text not in _HIDDEN:
        raise argparse.ArgumentTypeError(
            f"unknown hidden activation {text!r}; known: {', '.join(_HIDDEN)}; "
            'or a formula in z such as "z*tanh(softplus(z))", or a module written by nnref custom --out'
        )
    return text


def configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument("--dataset", choices=NAMES, default="digits", help="default: %(default)s")
    parser.add_argument(
        "--seed", type=_seed, default=0, help="0 to 2**32 − 1; makes the run reproducible bit for bit (default: 0)"
    )
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument(
        "--layers", type=_sizes, metavar="SIZES", help="every layer size, input first, e.g. 64,512,10 (as MLP(layers))"
    )
    sizes.add_argument(
        "--hidden",
        type=_sizes,
        metavar="SIZES",
        help="only the hidden sizes, e.g. 128,64 (default per data set: "
        + ", ".join(f"{k} {v['hidden']}" for k, v in DEFAULTS.items())
        + ")",
    )
    parser.add_argument(
        "--activation",
        type=_activation,
        default="relu",
        metavar="NAME|FORMULA|FILE.py",
        help="hidden activation: a registry name, a formula in z or an nnref custom module (default: relu)",
    )
    parser.add_argument(
        "--loss",
        choices=("softmax_cross_entropy", "binary_cross_entropy"),
        help="default: softmax_cross_entropy (binary_cross_entropy for the 2-class sets)",
    )
    parser.add_argument("--optimizer", choices=("gd", "sgd", "adam"), default="adam", help="default: %(default)s")
    parser.add_argument(
        "--lr", type=_positive_float, help="learning rate (default per data set: 1e-3 digits, 3e-3 others)"
    )
    parser.add_argument(
        "--epochs", type=_positive_int, help="default per data set: 60 digits, 200 moons and circles, 400 spirals"
    )
    parser.add_argument("--batch-size", type=_positive_int, help="default: 32")
    parser.add_argument("--init", choices=("small", "xavier", "he"), default="he", help="default: %(default)s")
    parser.add_argument(
        "--weight-decay", type=_non_negative_float, default=0.0, help="L2 penalty λ ≥ 0 (default: %(default)s)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("nnref-train-output"),
        help="folder for the loss curve, OUT/loss-DATASET.png (default: ./%(default)s)",
    )
    parser.add_argument("--force", action="store_true", help="replace a loss curve that already exists")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


class _BadArgument(Exception):
    """A bad argument found by run(): exit 2 with the message."""


def _curve_path(out: Path, dataset: str, force: bool) -> Path:
    """OUT/loss-DATASET.png, refused up front if OUT cannot be a folder or the file exists."""
    if out.exists() and not out.is_dir():
        raise _BadArgument(f"--out {out}: exists and is not a folder")
    existing = next((p for p in (out, *out.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        raise _BadArgument(f"--out {out}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise _BadArgument(f"--out {out}: the folder {existing} is not writable")
    curve = out / f"loss-{dataset}.png"
    if curve.exists() and not force:
        raise _BadArgument(f"--out {out}: {curve} exists; pass --force to replace it, or choose another --out")
    return curve


def _layers(args, n_features: int, n_classes: int, outputs: int, loss: str) -> list[int]:
    if args.layers is None:
        return [n_features, *(args.hidden or _sizes(DEFAULTS[args.dataset]["hidden"])), outputs]
    given = ",".join(map(str, args.layers))
    if len(args.layers) < 2 or args.layers[0] != n_features or args.layers[-1] != outputs:
        if args.layers[0] != n_features:
            hidden = args.layers  # most likely hidden sizes alone
        else:
            hidden = args.layers[1:-1] if len(args.layers) > 2 else args.layers[1:]
        hidden = hidden or [32]
        example = ",".join(map(str, [n_features, *hidden, outputs]))
        raise _BadArgument(
            f"--layers {given}: lists every size, input first, as MLP(layers) does; {args.dataset} with {loss} needs "
            f"{n_features} inputs and {outputs} output{'s' if outputs > 1 else ''}, e.g. --layers {example} "
            f"(or --hidden {','.join(map(str, hidden))})"
            + (
                f"; {n_classes} outputs, one per class, go with --loss softmax_cross_entropy"
                if loss == "binary_cross_entropy" and args.layers[-1] == n_classes
                else ""
            )
        )
    return args.layers


def _resolve_activation(text: str):
    """A registry name as is; a module or a formula compiled to an activation object."""
    if text in _HIDDEN:
        return text
    if text.endswith(".py"):
        from nnref._compiled import compile_activation

        path = Path(text)
        if not path.is_file():
            raise _BadArgument(f"--activation {text}: no such module")
        source = path.read_text(encoding="utf-8")
        found = re.findall(r"^def (\w+)_f\(", source, flags=re.MULTILINE)
        if len(found) != 1:
            raise _BadArgument(f"--activation {text}: not a module written by nnref custom --out (no NAME_f function)")
        try:
            return compile_activation(source, found[0], {})
        except Exception as exc:  # a broken file: say so, with the error
            raise _BadArgument(f"--activation {text}: cannot load it: {exc}") from None
    from nnref.custom import CustomError, activation

    print(f"nnref train: deriving {text!r} (nnref custom, no mpmath verification) ...", file=sys.stderr)
    try:
        return activation(text, name="custom", verify=False)
    except CustomError as exc:
        raise _BadArgument(f"--activation {text!r}: {exc}") from None


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except _BadArgument as exc:
        print(f"nnref train: error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from nnref import datasets
    from nnref.mlp import MLP

    curve = _curve_path(args.out, args.dataset, args.force)
    defaults = DEFAULTS[args.dataset]
    X, y = datasets.load(args.dataset, seed=args.seed)
    X_train, y_train, X_test, y_test = datasets.split(X, y, seed=args.seed)
    n_classes = int(y.max()) + 1
    loss = args.loss or ("binary_cross_entropy" if n_classes == 2 else "softmax_cross_entropy")
    if loss == "binary_cross_entropy" and n_classes != 2:
        raise _BadArgument(f"--loss binary_cross_entropy needs 2 classes; {args.dataset} has {n_classes}")
    outputs = 1 if loss == "binary_cross_entropy" else n_classes
    layers = _layers(args, X.shape[0], n_classes, outputs, loss)
    activation = _resolve_activation(args.activation)
    epochs = args.epochs or defaults["epochs"]
    model = MLP(
        layers,
        activation=activation,
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
            bar.set_postfix(loss=f"{value:.4f}", held_out=f"{model.val_history[-1]:.4f}")
            bar.update(1)

    start = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RuntimeWarning)
            model.fit(X_train, y_train, progress=progress, validation=(X_test, y_test))
    except FloatingPointError as exc:
        print(f"nnref train: {exc}", file=sys.stderr)
        return 1
    finally:
        if bar is not None:
            bar.close()
    for warning in caught:
        print(f"nnref train: warning: {warning.message}", file=sys.stderr)
    seconds = time.perf_counter() - start
    train_acc, test_acc = model.score(X_train, y_train), model.score(X_test, y_test)
    args.out.mkdir(parents=True, exist_ok=True)
    _plot_loss(model.history, model.val_history, curve, args.dataset)
    print(f"train accuracy    {train_acc:.2%}")
    print(f"held-out accuracy {test_acc:.2%}")
    print(f"time              {seconds:.1f} s for {epochs} epochs")
    print(f"loss curve        {curve} (training and held-out cost per epoch)")
    return 0


def _plot_loss(history, held_out, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    epochs = range(1, len(history) + 1)
    ax.plot(epochs, history, label="training cost")
    ax.plot(epochs, held_out, label="held-out loss")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cost")
    ax.set_title(f"nnref train --dataset {title}")
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
