"""Data: AMASS reading and indexing, procedural motion, the crop batch type both image sources
yield, SPIN-format image datasets and fits, evaluation datasets."""
