"""Bring your own activation: the `nnref custom` pipeline, opened to a user's formula.

  parse.py      the formula, parsed without running it (an AST whitelist)
  stabilise.py  unstable patterns rewritten into proven stable nodes
  pipeline.py   derive, prove, decide, generate: ``build(expr, name, params, runtime)``
  verify.py     the generated code measured against mpmath, finite differences, the complex step
  report.py     what was derived and measured, as data and as a table
  write.py      a standalone module (--out) and a reference page (--docs)
  cli.py        the command
  errors.py     CustomError, importable without SymPy

The public entry point is ``nnref.custom.activation(...)``, a thin façade over ``build``.
"""
