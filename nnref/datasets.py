"""Data sets for `nnref train`: scikit-learn's bundled 8×8 digits (no download) and 2-D toy sets.

Every loader returns (X, y) with X of shape (n_features, m), one example per column, and y the m
integer labels; and `split` makes a stratified, seeded train/held-out split.
"""

from __future__ import annotations

import numpy as np

NAMES = ("digits", "moons", "circles", "spirals")


def _sklearn_datasets():
    try:
        import sklearn.datasets
    except ImportError:
        raise ImportError(
            "the digits, moons and circles data sets come from scikit-learn, which is not installed: "
            "pip install 'nnref[train]'"
        ) from None
    return sklearn.datasets


def load(name: str, seed: int = 0, n: int = 600) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) for one of NAMES; digits has 1,797 images, the toy sets n points."""
    if name not in NAMES:
        raise ValueError(f"unknown dataset {name!r}; known datasets: {', '.join(NAMES)}")
    if name == "digits":
        digits = _sklearn_datasets().load_digits()
        return (digits.data / 16.0).T, digits.target.astype(int)
    if name == "moons":
        X, y = _sklearn_datasets().make_moons(n_samples=n, noise=0.15, random_state=seed)
        return X.T, y
    if name == "circles":
        X, y = _sklearn_datasets().make_circles(n_samples=n, noise=0.08, factor=0.5, random_state=seed)
        return X.T, y
    rng = np.random.default_rng(seed)
    per_class = n // 2
    t = np.sqrt(rng.uniform(0, 1, per_class)) * 3 * np.pi
    arms = []
    for k in range(2):
        angle = t + k * np.pi
        arm = np.stack([t * np.cos(angle), t * np.sin(angle)]) / (3 * np.pi)
        arms.append(arm + rng.normal(0, 0.03, arm.shape))
    X = np.concatenate(arms, axis=1)
    y = np.repeat([0, 1], per_class)
    return X, y


def split(X: np.ndarray, y: np.ndarray, held_out: float = 0.2, seed: int = 0):
    """Stratified split: (X_train, y_train, X_test, y_test)."""
    rng = np.random.default_rng(seed)
    test = []
    for label in np.unique(y):
        idx = np.flatnonzero(y == label)
        rng.shuffle(idx)
        test.extend(idx[: max(1, int(round(held_out * idx.size)))])
    mask = np.zeros(y.size, dtype=bool)
    mask[test] = True
    return X[:, ~mask], y[~mask], X[:, mask], y[mask]
