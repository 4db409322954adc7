"""The Learn path: one jupytext Markdown source per page (learn/pages/), from which learn/build.py
writes the docs page (with the outputs of a fresh run) and the downloadable notebook."""
