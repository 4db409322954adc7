"""nnref.MLPClassifier and nnref.MLPRegressor: scikit-learn's own estimator checks, and the
behaviour a scikit-learn user relies on (labels of any type, NotFittedError, fit starting again)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import nnref
from nnref import datasets
from nnref.mlp import MLP

# Small networks and few epochs keep the checks fast; a learning rate of 0.01 still lets them
# pass scikit-learn's accuracy and R² floors.
FAST = {"hidden": (16,), "lr": 0.01, "epochs": 30}


@parametrize_with_checks([nnref.MLPClassifier(**FAST), nnref.MLPRegressor(**FAST)])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def _moons_rows():
    X, y = datasets.load("moons", seed=0)
    return X.T, y  # rows are examples at the scikit-learn boundary


@pytest.mark.parametrize(
    "labels", [np.array([1, 2]), np.array([-1, 1]), np.array(["cat", "dog"])], ids=["1-2", "-1-1", "strings"]
)
def test_labels_of_any_type(labels):
    X, y = _moons_rows()
    clf = nnref.MLPClassifier(**FAST).fit(X, labels[y])
    assert list(clf.classes_) == sorted(labels)
    assert set(clf.predict(X)) <= set(labels) and clf.score(X, labels[y]) > 0.8
    proba = clf.predict_proba(X)
    assert proba.shape == (X.shape[0], 2) and np.allclose(proba.sum(axis=1), 1)
    assert clf.mlp_.loss == "binary_cross_entropy" and clf.mlp_.layers == [2, 16, 1]  # the notebook's output


def test_several_classes_and_probabilities_in_the_order_of_classes():
    X, y = _moons_rows()
    y3 = np.where(X[:, 0] > 1.2, 2, y)
    clf = nnref.MLPClassifier(**FAST).fit(X, np.array(["a", "b", "c"])[y3])
    proba = clf.predict_proba(X)
    assert proba.shape == (X.shape[0], 3)
    assert np.array_equal(clf.classes_[np.argmax(proba, axis=1)], clf.predict(X))


def test_not_fitted_error_before_fit():
    X, _ = _moons_rows()
    for est in (nnref.MLPClassifier(), nnref.MLPRegressor()):
        with pytest.raises(NotFittedError):
            est.predict(X)


def test_a_second_fit_starts_again_unless_warm_start():
    X, y = _moons_rows()
    clf = nnref.MLPClassifier(**FAST).fit(X, y)
    first = clf.predict_proba(X)
    clf.fit(X, y)
    assert clf.n_iter_ == 30 and len(clf.loss_curve_) == 30
    assert np.array_equal(clf.predict_proba(X), first)
    warm = nnref.MLPClassifier(**FAST, warm_start=True).fit(X, y).fit(X, y)
    assert warm.n_iter_ == 60 and len(warm.loss_curve_) == 60
    assert not np.array_equal(warm.predict_proba(X), first)


def test_the_estimator_is_the_column_core_transposed():
    """Same seed, same settings: the estimator on rows trains exactly the MLP on columns."""
    X, y = _moons_rows()
    clf = nnref.MLPClassifier(hidden=(8,), epochs=5, seed=3).fit(X, y)
    core = MLP([2, 8, 1], loss="binary_cross_entropy", epochs=5, seed=3).fit(X.T, y)
    assert clf.loss_curve_ == core.history
    assert np.array_equal(clf.predict_proba(X), core.predict_proba(X.T).T)


def test_repr_clone_pipeline_cross_validation_and_grid_search():
    X, y = _moons_rows()
    clf = nnref.MLPClassifier(hidden=(8,), epochs=10, lr=0.01)
    assert repr(clf) == "MLPClassifier(epochs=10, hidden=(8,), lr=0.01)"
    assert clone(clf).get_params() == clf.get_params()
    scores = cross_val_score(make_pipeline(StandardScaler(), clf), X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.8
    search = GridSearchCV(clf, {"hidden": [(4,), (8,)]}, cv=2).fit(X, y)
    assert search.best_params_["hidden"] in [(4,), (8,)]


def test_regressor_one_and_several_targets():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1]
    reg = nnref.MLPRegressor(hidden=(32,), lr=0.01, epochs=60).fit(X, y)
    assert reg.predict(X).shape == (200,) and reg.score(X, y) > 0.9
    Y = np.column_stack([y, -y])
    reg2 = nnref.MLPRegressor(hidden=(32,), lr=0.01, epochs=60, loss="huber").fit(X, Y)
    assert reg2.predict(X).shape == (200, 2) and reg2.score(X, Y) > 0.9


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"hidden": (8.5,)}, TypeError, r"hidden\[0\] must be a whole number ≥ 1, got 8.5"),
        ({"hidden": "8"}, TypeError, r"hidden must be a tuple of hidden layer sizes"),
        ({"lr": -1}, ValueError, r"lr must be a finite number with 0 < lr"),
        ({"beta1": 1.0}, ValueError, r"beta1 must be a finite number with 0 ≤ beta1 < 1"),
    ],
)
def test_bad_settings_are_named_at_fit(kwargs, error, match):
    X, y = _moons_rows()
    est = nnref.MLPClassifier(**kwargs)  # scikit-learn's rule: __init__ stores, fit checks
    with pytest.raises(error, match=match):
        est.fit(X, y)


def test_one_class_is_refused_with_a_message():
    X, _ = _moons_rows()
    with pytest.raises(ValueError, match="a classifier needs at least 2 classes"):
        nnref.MLPClassifier(**FAST).fit(X, np.zeros(X.shape[0]))
