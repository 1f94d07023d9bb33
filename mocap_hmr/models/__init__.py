"""Models: hmr.py (SPIN-compatible HMR and its ResNet), posebert.py (PoseBERT and its
checkpoints), keypoint inputs, trainable-subset selection (finetune.py). Refining a sequence
with a trained PoseBERT is ``mocap_hmr.refinement``."""
