"""Data: AMASS reading, procedural motion, SPIN-format image and evaluation datasets (issues 3, 5, 7)."""
