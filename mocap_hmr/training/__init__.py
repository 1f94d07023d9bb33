"""Training: the MoCap-SPIN step (``mocap_spin``), the PoseBERT step (``posebert_step``) and the
runner that interleaves them in one process (``runner``), with its run folder, checkpoints,
several-process support, ``torch.compile`` and host-float helpers (``compile``)."""
