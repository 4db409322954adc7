"""Measures nnref's speed against plain NumPy, numexpr and PyTorch: `python -m bench.speed`.

Writes docs/reference/performance.md (and the bar chart docs/reference/performance/elementwise.svg):

- the elementwise activations: nnref's generated f, f_df and f-then-df against the textbook NumPy form,
  the best hand-written NumPy/SciPy form, numexpr and PyTorch CPU, as time per element and as a
  multiple of ``np.copyto`` on the same array (the memory floor), float32 and float64;
- one full-batch training step of a 784-256-128-10 MLP: nnref.MLP, the same step hand-written in
  NumPy, and PyTorch autograd with SGD, plus the GEMM throughput for context;
- the cost of ``import nnref`` in a fresh interpreter and, with --regeneration (or in the full
  default run), of ``nnref derive`` into a temporary folder and ``mkdocs build``;
- the performance targets, each MET or MISSED.

Every table is a ratio of medians measured side by side in one process: the candidates are
interleaved in every repeat (in a rotating order), so a noisy machine slows them all alike.

    python -m bench.speed                    # everything (several minutes)
    python -m bench.speed --quick            # sizes up to 1e6, 3 repeats, no regeneration
    python -m bench.speed --no-regeneration  # the full run without `nnref derive` and `mkdocs build`

The package: settings.py (what is measured, and the targets), candidates.py (the forms compared),
timing.py (how they are timed), report.py with page.md (the page: its prose is the Markdown
template, its tables are filled in), cli.py (the command).
"""
