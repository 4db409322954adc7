"""scikit-learn estimators on nnref.MLP: ``nnref.MLPClassifier`` and ``nnref.MLPRegressor``.

At this boundary rows are examples, as scikit-learn expects: X is (m, n_features). Inside, the
network keeps the notebook's layout, one example per column, so the data are transposed once, in
``fit``, ``predict`` and ``predict_proba`` (``X.T`` on the way in; outputs ``.T`` on the way
out). The network itself, trained and ready to inspect, is ``mlp_``: its ``params``, its
``history`` and ``val_history``, ``cost`` and ``gradients``, ``save`` and ``load``.

They pass scikit-learn's own estimator checks (``tests/test_estimators.py``), so ``clone``,
``cross_val_score``, ``GridSearchCV`` and ``Pipeline`` work with them. They need scikit-learn
(``pip install nnref[train]``); ``import nnref`` does not load it.

>>> from sklearn.datasets import load_iris
>>> from nnref import MLPClassifier
>>> X, y = load_iris(return_X_y=True)
>>> clf = MLPClassifier(hidden=(16,), lr=0.01, epochs=50).fit(X, y)
>>> clf.predict_proba(X[:2]).shape
(2, 3)
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from nnref._arrays import whole_number
from nnref.mlp import MLP

REGRESSION_LOSSES = ("mse", "mae", "huber")


class _MLPEstimator(BaseEstimator):
    """The settings both estimators share; each is the MLP argument of the same name."""

    def __init__(
        self,
        hidden=(100,),
        activation="relu",
        init="he",
        optimizer="adam",
        lr=1e-3,
        momentum=0.9,
        beta1=0.9,
        beta2=0.999,
        eps=1e-8,
        weight_decay=0.0,
        epochs=100,
        batch_size=32,
        seed=0,
        warm_start=False,
    ):
        # scikit-learn's convention: store the settings as given; fit checks them (MLP does).
        self.hidden = hidden
        self.activation = activation
        self.init = init
        self.optimizer = optimizer
        self.lr = lr
        self.momentum = momentum
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weight_decay = weight_decay
        self.epochs = epochs
        self.batch_size = batch_size
        self.seed = seed
        self.warm_start = warm_start

    def _hidden_sizes(self) -> list[int]:
        hidden = self.hidden
        if isinstance(hidden, (int, np.integer)) and not isinstance(hidden, bool):
            hidden = (hidden,)
        if isinstance(hidden, (str, bytes)) or not hasattr(hidden, "__iter__"):
            raise TypeError(f"hidden must be a tuple of hidden layer sizes, e.g. (100,), got {hidden!r}")
        return [whole_number(n, f"hidden[{i}]") for i, n in enumerate(hidden)]

    def _fit(self, X, Y, n_outputs: int, loss: str):
        """Build (or, with warm_start, keep) the network and train it on columns X.T."""
        layers = [X.shape[1], *self._hidden_sizes(), n_outputs]
        # MLP checks every setting; warm_start=True there because the estimator decides when to
        # start again: a new network now, or the trained one's parameters carried over.
        model = MLP(layers, loss=loss, warm_start=True, **{key: getattr(self, key) for key in _SHARED})
        previous = getattr(self, "mlp_", None) if self.warm_start else None
        if previous is not None and previous.layers == layers and previous.loss == loss:
            model.params = {k: v.copy() for k, v in previous.params.items()}
            model.history = list(previous.history)
        model.fit(X.T, Y)  # the one transpose: rows of examples become the notebook's columns
        self.mlp_ = model
        self.loss_curve_ = list(model.history)
        self.n_iter_ = len(model.history)
        return self

    def _columns(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return X.T

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


_SHARED = (
    "activation",
    "init",
    "optimizer",
    "lr",
    "momentum",
    "beta1",
    "beta2",
    "eps",
    "weight_decay",
    "epochs",
    "batch_size",
    "seed",
)


class MLPClassifier(ClassifierMixin, _MLPEstimator):
    """nnref's MLP as a scikit-learn classifier: softmax cross-entropy over K classes, or for two
    classes the notebook's single sigmoid output with binary cross-entropy.

    Labels may be of any type (ints, strings, {−1, 1}); ``classes_`` lists them, sorted, and
    ``predict_proba`` returns (m, n_classes) in that order.

    Args:
        hidden: the hidden layer sizes (input and output sizes come from the data).
        warm_start: a second ``fit`` continues from the trained network; by default it starts again.

    The other settings (activation, init, optimizer, lr, momentum, beta1, beta2, eps,
    weight_decay, epochs, batch_size, seed) are ``nnref.MLP``'s, checked by it when ``fit`` runs.

    Attributes (after fit): ``classes_``, ``n_features_in_``, ``mlp_`` (the column-layout
    network), ``loss_curve_`` (the training cost per epoch), ``n_iter_`` (epochs run in all).
    """

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        classes = encoder.classes_
        if classes.size < 2:
            raise ValueError(
                f"y has one class ({classes[0]!r}, {y.shape[0]} samples); a classifier needs at least 2 classes"
            )
        if self.warm_start and hasattr(self, "classes_") and not np.array_equal(classes, self.classes_):
            raise ValueError(
                f"warm_start: y has classes {list(classes)}, but the network was fitted on {list(self.classes_)}"
            )
        self.classes_ = classes
        binary = classes.size == 2
        loss = "binary_cross_entropy" if binary else "softmax_cross_entropy"
        return self._fit(X, encoder.transform(y), 1 if binary else classes.size, loss)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, (m, n_classes), columns in the order of ``classes_``."""
        X = self._columns(X)
        return self.mlp_.predict_proba(X).T

    def predict(self, X) -> np.ndarray:
        """The most probable class of each row, as labels from ``classes_``."""
        best = np.argmax(self.predict_proba(X), axis=1)
        return self.classes_[best]


class MLPRegressor(RegressorMixin, _MLPEstimator):
    """nnref's MLP as a scikit-learn regressor: linear outputs, one per target column.

    Args:
        loss: "mse" (default), "mae" or "huber".

    The other settings are ``MLPClassifier``'s.

    ``predict`` returns (m,) for a 1-D y and (m, n_targets) for a 2-D one.
    """

    def __init__(
        self,
        hidden=(100,),
        activation="relu",
        loss="mse",
        init="he",
        optimizer="adam",
        lr=1e-3,
        momentum=0.9,
        beta1=0.9,
        beta2=0.999,
        eps=1e-8,
        weight_decay=0.0,
        epochs=100,
        batch_size=32,
        seed=0,
        warm_start=False,
    ):
        super().__init__(
            hidden=hidden,
            activation=activation,
            init=init,
            optimizer=optimizer,
            lr=lr,
            momentum=momentum,
            beta1=beta1,
            beta2=beta2,
            eps=eps,
            weight_decay=weight_decay,
            epochs=epochs,
            batch_size=batch_size,
            seed=seed,
            warm_start=warm_start,
        )
        self.loss = loss

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=True)
        if self.loss not in REGRESSION_LOSSES:
            raise ValueError(f"loss must be one of {', '.join(REGRESSION_LOSSES)}; got {self.loss!r}")
        Y = np.asarray(y, dtype=np.float64)
        self._one_target = Y.ndim == 1
        Y = Y.reshape(Y.shape[0], -1).T  # (n_targets, m): columns, as the network takes them
        return self._fit(X, Y, Y.shape[0], self.loss)

    def predict(self, X) -> np.ndarray:
        X = self._columns(X)
        out = self.mlp_.predict(X).T
        return out[:, 0] if self._one_target else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
