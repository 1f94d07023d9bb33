"""Batched, seeded samplers on the caller's device: pose, sequence, camera, crop, texture and
background (issues 3 and 4). Samplers never import mocap_hmr.training."""
