"""Models: hmr.py (SPIN-compatible HMR), posebert.py, trainable-subset selection (issues 5 and 6)."""
