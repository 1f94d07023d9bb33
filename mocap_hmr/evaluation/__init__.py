"""Evaluation: benchmarks (embedded and licensed), scoring under explicit protocols, cached
predictions, reports. ``python eval.py`` runs it (``mocap_hmr.evaluation.run.evaluate``)."""
