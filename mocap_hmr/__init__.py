"""mocap-hmr: MoCap data for human mesh recovery (MoCap-SPIN and PoseBERT)."""

__version__ = "0.1.0"
