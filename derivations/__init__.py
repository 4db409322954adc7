"""nnref's derivations: SymPy definitions of every formula, and the generators that print them.

Layout (the pipeline, in order):
  symbols.py, functions.py   the symbols and the stable building blocks (sigmoid, softplus, ...)
  neuron.py                  z = w·x + b and its partial derivatives
  activations.py, losses.py  one entry per activation / loss: textbook and stable forms
  softmax.py                 the vector-valued softmax and log_softmax, their Jacobians
  proofs.py                  stable form == textbook form, per branch
  properties.py              non-linear, monotonic, C¹, range, ... decided by SymPy
  printer.py, codegen.py     lambdify's printer, and `nnref derive` writing nnref/_generated
"""
