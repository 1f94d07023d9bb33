"""Rasterization (pure-torch backend now; pytorch3d backend, shading and the batch renderer with issue 4)."""
