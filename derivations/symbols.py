"""The symbols every derivation shares."""

import sympy as sp

#: The pre-activation z = w·x + b. Real, as every input to an activation is.
z = sp.Symbol("z", real=True)
#: The slope/scale parameter of leaky_relu and elu.
alpha = sp.Symbol("alpha", positive=True)
#: Huber's threshold.
delta = sp.Symbol("delta", positive=True)
#: A prediction and its target, for the losses.
y_hat = sp.Symbol("y_hat", real=True)
y = sp.Symbol("y", real=True)
