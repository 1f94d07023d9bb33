"""Training: the MoCap-SPIN step, the PoseBERT step and the runner interleaving them (issues 5, 6, 8)."""
