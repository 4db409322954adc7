"""Measures nnref's speed against plain NumPy and PyTorch: `python -m bench.speed`.

Writes docs/reference/performance.md (and the figure docs/reference/performance/elementwise.svg).
The page opens with the findings, one table per target of the issue, each met or missed with its
figures; where an elementwise target is missed, the primitive that costs the generated kernel
most is named with its measured time. Then the methodology and every measurement:

- the elementwise activations at 1 thread and at NNREF_THREADS=2, n = 1e5, 1e6 and 1e7, float64 and
  float32: nnref's generated f, f_df and f-then-df against the textbook NumPy form, the best
  hand-written NumPy/SciPy form and PyTorch CPU, as a multiple of ``np.copyto`` on the same array
  (the memory floor) and as time per element; and the issue's table at 4e6 float64;
- one call of each NumPy primitive on one block of the runtime;
- one full-batch training step of a 784-256-128-10 MLP at each thread count: nnref.MLP, the same
  step hand-written in NumPy, and PyTorch autograd with SGD, plus the GEMM throughput for context;
- the cost of ``import nnref`` and ``import nnref.activations`` in fresh interpreters and, with
  --regeneration, of ``nnref derive`` and ``mkdocs build``.

Every table is a ratio of medians measured side by side in one process: the candidates are
interleaved in every repeat (in a rotating order), so a noisy machine slows them all alike.

    python -m bench.speed                    # everything (about ten minutes)
    python -m bench.speed --quick            # sizes up to 1e6, 3 repeats

The package: settings.py (what is measured, and the targets), candidates.py (the forms compared),
timing.py (how they are timed), report.py with page.md (the page: its prose is the Markdown
template, its tables are filled in), cli.py (the command).
"""
