"""What an evaluation produces: one ``Result`` per (method, benchmark), with the protocol
written in, mean numbers for tables and per-sample numbers for histograms (Figure 7)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# metric name -> unit, as tables print them
UNITS = {"mpjpe": "mm", "pa_mpjpe": "mm", "mpvpe": "mm", "accel_error": "mm/frame²", "accel": "mm/frame²"}


@dataclass
class Result:
    """method: e.g. "starting model", "MoCap-SPIN", "MoCap-SPIN + PoseBERT"; benchmark: e.g.
    "embedded-in-coverage", "embedded-video", "embedded-denoising", "3dpw"; kind: "image" (per-frame
    numbers) or "video" (with acceleration); protocol: ``metrics.Protocol.as_dict()`` plus
    anything else that fixes the numbers (e.g. {"fps": 30}); metrics: means, in ``UNITS``;
    per_sample: metric -> (N,) float array (same N and order for every method on a
    benchmark, so two methods can be compared sample by sample); samples: N."""

    method: str
    benchmark: str
    kind: str
    protocol: dict
    metrics: dict[str, float]
    per_sample: dict[str, np.ndarray] = field(default_factory=dict)
    samples: int = 0

    def as_dict(self) -> dict:
        """JSON-ready: everything but the per-sample arrays."""
        return {"method": self.method, "benchmark": self.benchmark, "kind": self.kind, "protocol": self.protocol,
                "metrics": self.metrics, "samples": self.samples}
