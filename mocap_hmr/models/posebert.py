"""PoseBERT: a transformer over sequences of SMPL poses that regresses refined poses.

Input: per frame the 24 joint rotations as SPIN's 6D (first two columns of the rotation
matrix, 24 x 6 = 144 values; ``input="smpl"``) or 3D keypoints (``input="h36m"``: the 54
values of ``keypoint_input.keypoint_features``, naver/posebert's ``posebert_h36m``) and an
``observed`` flag; output: refined SMPL rotations for every frame, observed or not.

Forward pass (both variants):

1. ``emb``: a linear map of the 144 (or 54) input values to ``dim`` features per frame.
2. Frames not observed get the learned ``mask_token`` instead of their embedding (their
   inputs never enter the computation, so NaN there is harmless).
3. ``pos``: the learned positional table ``pe[:, :T]`` is added once, at the input
   (``positional_encoding="input"``, the paper's and the release's choice), or before every
   block (``"every_block"``), or not at all (``"none"``).
4. ``depth`` pre-LayerNorm blocks. Attention: ``x += Attn(LN(x))``, ``heads`` heads of
   ``dim / heads`` channels, no bias on the query/key/value projection, unobserved frames
   excluded as attention *keys* (their weight is exactly 0; they still query, so they get
   an output); a window with no observed frame attends uniformly to all frames.
   Feed-forward (release, baseline): ``x += FF(LN(x))``, Linear-GELU-Dropout-Linear-Dropout.
5. The pose regressor, shared across time steps: ``pose += Reg([LN(x), pose])`` with
   Reg = Linear(dim + 144, hidden)-GELU-Dropout-Linear(hidden, 144), starting from the mean
   pose ``init_pose`` (``start="mean"``, the paper's) or from the input itself
   (``start="input"``: each frame's own 6D input, an unobserved frame the input of the
   nearest observed frame, the earlier one on a tie; the mean pose in a window with none),
   or from the input smoothed over time (``start="smoothed"``: a Gaussian-weighted mean of
   the observed frames' 6D inputs, ``start_sigma`` frames wide, cut at 3 sigma; frames with
   no observed frame that near take the nearest one's input), so that the model refines its
   input, or a plain filter's output, instead of regressing a pose from the mean;
   ``regressor_iterations`` updates per block, each fed the current pose.
   ``regressor="blocks"``: one regressor after every block (the same module in every block
   when ``share_regressor``); ``regressor="top"``: standard transformer blocks and a single
   regressor at the end (the paper's "transformer + regressor on top" baseline).
6. The 6D pose goes back to rotation matrices by Gram-Schmidt (``rot6d_to_matrix``).

With ``canonical_root`` (6D input only), each window is seen in the frame of one of its own
frames: every input root rotation is premultiplied by R_ref^T, R_ref the input root of the
observed frame nearest the window's centre (the earlier on a tie), and every output root by
R_ref. The model is then equivariant to the global orientation: turning a whole window turns
its output the same way and changes nothing else, so no orientation is unfamiliar to it.

Variants (``build_posebert``):

- ``paper`` (DESIGN.md): T = 16 positions, dim 512, 4 blocks, 8 heads, the regressor
  *replaces* the feed-forward layer (block = attention + regressor), 1 iteration per
  block, shared, positional table on the input, dropout 0.1. Initialisation: positional
  table and mask token N(0, 0.02^2), last regressor layer zero, so an untrained model
  outputs the mean pose exactly (the release: N(0, 1) and Xavier with gain 0.01).
- ``released``: the architecture of naver/posebert's ``posebert_smpl.pt`` (read in its
  ``posebert.py``, class ``PoseBERT`` with its defaults, and ``demo.py``), so that its
  ``model_state_dict`` loads with ``strict=True``; parameter names, order and shapes equal
  the release's list (tests/test_posebert.py), 7,316,112 parameters. Each block keeps its
  feed-forward layer (hidden 512) and adds the regressor after it (sub-layers ``.0``
  attention, ``.1`` feed-forward, ``.2`` regressor, each with its own LayerNorm ``.norm``
  and ``.fn``); 8 heads x 64; GELU; dropout 0.1 after the attention output projection,
  inside and after the feed-forward layer and inside the regressor (not on the attention
  weights); a 1024-position table added once to the embedded input (frame t gets row t);
  one regressor shared by the 4 blocks (its keys repeat under every block), one iteration
  per block, fed [features, pose] in that order; Gram-Schmidt on the (3, 2) column pairs.
  The demo runs it on windows of 64 frames. Two departures, neither changing what a loaded
  checkpoint computes: masked frames are selected with ``where`` instead of multiplied by
  0/1 (so a NaN input stays out), and with several regressor iterations each one is fed the
  current pose (the release feeds the block's input pose every time, the same thing for its
  single iteration). With ``input="h36m"`` it is the architecture of ``posebert_h36m.pt``
  (``emb`` takes 54 values); ``load_posebert`` tells the two apart by ``emb``'s width.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from mocap_hmr.atomic import atomic_write
from mocap_hmr.choices import POSITIONAL_ENCODINGS, REGRESSOR_PLACEMENTS, STARTS
from mocap_hmr.errors import InputShapeError, MocapHMRError
from mocap_hmr.geometry import axis_angle_to_matrix, matrix_to_rot6d, rot6d_to_matrix
from mocap_hmr.models.checkpoints import CheckpointError, load_weights, read_checkpoint, state_dict_of
from mocap_hmr.models.hmr import NPOSE, identity_mean_pose
from mocap_hmr.models.keypoint_input import KEYPOINT_FEATURES

CHECKPOINT_FORMAT = "mocap-hmr-posebert"
INPUTS = {"smpl": NPOSE, "h36m": KEYPOINT_FEATURES}  # choices.POSEBERT_INPUTS -> values per frame
# choices.POSEBERT_VARIANTS -> overrides of PoseBERT's defaults (which are the paper's).
VARIANTS = {"paper": {}, "released": {"max_len": 1024, "feed_forward": True}}
RELEASE_HEAD_DIM = 64  # a state dict does not say how many heads; the release has 8 of 64 channels


@dataclass
class PoseBERTOutput:
    """rotmat (B, T, 24, 3, 3) refined rotations; rot6d (B, T, 24, 6) the regressed 6D they come from."""

    rotmat: torch.Tensor
    rot6d: torch.Tensor


class PreNorm(nn.Module):
    """LayerNorm on the features, then ``fn(normed, *args)`` (the release's ``.norm`` / ``.fn``)."""

    def __init__(self, dim: int, fn: nn.Module):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fn = fn

    def forward(self, x: torch.Tensor, *args):
        return self.fn(self.norm(x), *args)


class Attention(nn.Module):
    """Multi-head self-attention over time whose keys are only the observed frames."""

    def __init__(self, dim: int, heads: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.to_qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.to_out = nn.Sequential(nn.Linear(dim, dim), nn.Dropout(dropout))

    def forward(self, x: torch.Tensor, observed: torch.Tensor) -> torch.Tensor:
        """x (B, T, D), observed (B, T) bool -> (B, T, D)."""
        b, t, d = x.shape
        q, k, v = self.to_qkv(x).reshape(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        # The lowest finite value, not -inf: unobserved keys get weight exactly 0, and a row with
        # no observed key gets uniform weights instead of NaN (as the release's masked_fill does).
        hidden = torch.zeros(b, 1, 1, t, dtype=q.dtype, device=x.device)
        hidden = hidden.masked_fill(~observed[:, None, None, :], torch.finfo(q.dtype).min)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=hidden)
        return self.to_out(out.transpose(1, 2).reshape(b, t, d))


class FeedForward(nn.Module):
    def __init__(self, dim: int, hidden: int, dropout: float):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, dim),
                                 nn.Dropout(dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class PoseRegressor(nn.Module):
    """Additive pose updates from features and the current pose; its last layer starts at zero."""

    def __init__(self, dim: int, hidden: int, dropout: float):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim + NPOSE, hidden), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(hidden, NPOSE))
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def forward(self, features: torch.Tensor, pose: torch.Tensor, iterations: int) -> torch.Tensor:
        """features (B, T, D), pose (B, T, 144) -> pose (B, T, 144)."""
        for _ in range(iterations):
            pose = pose + self.net(torch.cat([features, pose], -1))
        return pose


class Block(nn.ModuleList):
    """One transformer block, sub-layers numbered as in the release: attention, then the
    feed-forward layer (when kept), then the regressor (when there is one per block)."""

    def __init__(self, attention: PreNorm, feed_forward: PreNorm | None, regressor: PreNorm | None):
        super().__init__([m for m in (attention, feed_forward, regressor) if m is not None])
        self.has_feed_forward, self.has_regressor = feed_forward is not None, regressor is not None

    def forward(self, x: torch.Tensor, pose: torch.Tensor, observed: torch.Tensor,
                iterations: int) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, T, D), pose (B, T, 144), observed (B, T) -> updated x and pose."""
        x = x + self[0](x, observed)
        if self.has_feed_forward:
            x = x + self[1](x)
        if self.has_regressor:
            pose = self[-1](x, pose, iterations)
        return x, pose


class Decoder(nn.Module):
    """The blocks (``layers``) and, for ``regressor="top"``, the one ``regressor`` after them."""

    def __init__(self, dim: int, depth: int, heads: int, hidden: int, dropout: float, feed_forward: bool,
                 regressor: str, share_regressor: bool):
        super().__init__()

        def new_regressor() -> PreNorm:
            return PreNorm(dim, PoseRegressor(dim, hidden, dropout))

        shared = new_regressor() if regressor == "blocks" and share_regressor else None
        self.layers = nn.ModuleList(
            Block(PreNorm(dim, Attention(dim, heads, dropout)),
                  PreNorm(dim, FeedForward(dim, hidden, dropout)) if feed_forward else None,
                  (new_regressor() if shared is None else shared) if regressor == "blocks" else None)
            for _ in range(depth)
        )
        self.regressor = new_regressor() if regressor == "top" else None

    def forward(self, x: torch.Tensor, pose: torch.Tensor, observed: torch.Tensor, iterations: int,
                position: torch.Tensor | None) -> torch.Tensor:
        """x (B, T, D), pose (B, T, 144), observed (B, T); position (1, T, D) added before every
        block, or None -> pose (B, T, 144)."""
        for block in self.layers:
            if position is not None:
                x = x + position
            x, pose = block(x, pose, observed, iterations)
        if self.regressor is not None:
            pose = self.regressor(x, pose, iterations)
        return pose


class PositionalEncoding(nn.Module):
    def __init__(self, dim: int, max_len: int):
        super().__init__()
        self.pe = nn.Parameter(0.02 * torch.randn(1, max_len, dim))


class PoseBERT(nn.Module):
    """inputs (B, T, 24, 6) 6D or (B, T, 24, 3, 3) matrices (``input="smpl"``), or (B, T, 54)
    keypoint features (``input="h36m"``); observed (B, T) bool -> ``PoseBERTOutput``.

    Defaults are the paper's (see the module docstring for what each switch does):
    max_len: T, the length of the positional table (sequences may be shorter); dim: Dt;
    depth: L blocks; heads; hidden: width of the feed-forward and regressor layers;
    feed_forward: keep a feed-forward layer in each block (the release); regressor: "blocks"
    or "top"; share_regressor; regressor_iterations per block; positional_encoding: "input",
    "every_block" or "none"; init_pose: the mean pose, 144 values of 6D (default: identity
    rotations; ``mean_pose_6d`` makes one from a corpus); start: the regressor's starting
    pose, "mean", "input" or "smoothed" (6D input only), start_sigma the width of "smoothed"
    in frames; canonical_root: see the module docstring;
    input: "smpl" or "h36m"; skeleton: for "h36m", the 17 x 3 reference joints the
    keypoints' bones are rescaled to (a nested list, kept in ``config``; None: not rescaled).
    ``config`` holds all but init_pose, which is the buffer ``init_pose (1, 1, 144)``;
    ``variant`` is "paper" or "released" when ``build_posebert`` made it, else "custom".
    """

    def __init__(self, max_len: int = 16, dim: int = 512, depth: int = 4, heads: int = 8, hidden: int = 512,
                 dropout: float = 0.1, feed_forward: bool = False, regressor: str = "blocks",
                 share_regressor: bool = True, regressor_iterations: int = 1, positional_encoding: str = "input",
                 start: str = "mean", start_sigma: float = 3.0, canonical_root: bool = False, input: str = "smpl",
                 skeleton: list | None = None,
                 init_pose: torch.Tensor | None = None):
        super().__init__()
        self.config = {k: v for k, v in locals().items() if k in CONFIG_KEYS}
        if regressor not in REGRESSOR_PLACEMENTS:
            raise MocapHMRError(f"regressor='{regressor}' is not one of {', '.join(REGRESSOR_PLACEMENTS)}")
        if positional_encoding not in POSITIONAL_ENCODINGS:
            raise MocapHMRError(
                f"positional_encoding='{positional_encoding}' is not one of {', '.join(POSITIONAL_ENCODINGS)}"
            )
        if input not in INPUTS:
            raise MocapHMRError(f"input='{input}' is not one of {', '.join(INPUTS)}")
        if start not in STARTS or (start != "mean" and input != "smpl"):
            raise MocapHMRError(f"start='{start}' is not one of {', '.join(STARTS)} (all but 'mean' need "
                                "input='smpl')")
        if not start_sigma > 0:
            raise MocapHMRError(f"start_sigma={start_sigma}: the smoothing width is > 0 frames")
        if canonical_root and input != "smpl":
            raise MocapHMRError("canonical_root=True needs input='smpl' (root rotations to turn)")
        if dim % heads or min(depth, heads, regressor_iterations, max_len) < 1:
            raise MocapHMRError(f"PoseBERT needs dim divisible by heads and depth, heads, regressor_iterations, "
                                f"max_len >= 1 (got dim={dim}, heads={heads}, depth={depth}, "
                                f"regressor_iterations={regressor_iterations}, max_len={max_len})")
        init_pose = identity_mean_pose() if init_pose is None else torch.as_tensor(init_pose, dtype=torch.float32)
        if init_pose.numel() != NPOSE:
            raise InputShapeError(f"init_pose has shape {tuple(init_pose.shape)}; expected {NPOSE} values (24 x 6D)")
        self.variant = "custom"
        self.max_len, self.iterations, self.positional_encoding = max_len, regressor_iterations, positional_encoding
        self.pos = PositionalEncoding(dim, max_len) if positional_encoding != "none" else None
        self.input, self.start, self.start_sigma, self.canonical_root = input, start, start_sigma, canonical_root
        reference = None if skeleton is None else torch.as_tensor(skeleton, dtype=torch.float32).reshape(17, 3)
        self.register_buffer("skeleton", reference, persistent=False)  # in config, not in the state dict
        self.emb = nn.Linear(INPUTS[input], dim)
        self.mask_token = nn.Parameter(0.02 * torch.randn(1, 1, dim))
        self.decoder = Decoder(dim, depth, heads, hidden, dropout, feed_forward, regressor, share_regressor)
        self.register_buffer("init_pose", init_pose.reshape(1, 1, NPOSE))

    def forward(self, inputs: torch.Tensor, observed: torch.Tensor | None = None) -> PoseBERTOutput:
        inputs = self._frames(inputs)
        b, t = inputs.shape[:2]
        if observed is None:
            observed = torch.ones(b, t, dtype=torch.bool, device=inputs.device)
        if observed.shape != (b, t):
            raise InputShapeError(f"observed has shape {tuple(observed.shape)}; expected (B, T) = ({b}, {t})")
        if self.pos is not None and t > self.max_len:
            raise InputShapeError(f"sequences of {t} frames are longer than the model's {self.max_len} positions")
        observed = observed.bool()
        reference = window_reference(inputs, observed) if self.canonical_root else None
        if reference is not None:
            inputs = turn_roots_6d(inputs, reference.transpose(-1, -2))
        visible = observed[..., None]
        x = self.emb(torch.where(visible, inputs, 0.0))
        x = torch.where(visible, x, self.mask_token.to(x.dtype))
        position = None if self.pos is None else self.pos.pe[:, :t]
        if self.positional_encoding == "input":
            x, position = x + position, None
        pose = self.init_pose.expand(b, t, NPOSE)
        if self.start != "mean":
            pose = nearest_observed(inputs, observed, pose)
        if self.start == "smoothed":
            pose = smoothed_observed(inputs, observed, self.start_sigma, pose)
        rot6d = self.decoder(x, pose, observed, self.iterations, position)
        if reference is not None:
            rot6d = turn_roots_6d(rot6d, reference)
        rot6d = rot6d.reshape(b, t, 24, 6)
        return PoseBERTOutput(rotmat=rot6d_to_matrix(rot6d), rot6d=rot6d)

    def _frames(self, inputs: torch.Tensor) -> torch.Tensor:
        """The model's input, checked, as (B, T, 144) or (B, T, 54)."""
        if self.input == "h36m":
            if inputs.dim() != 3 or inputs.shape[2] != KEYPOINT_FEATURES:
                raise InputShapeError(f"inputs has shape {tuple(inputs.shape)}; this PoseBERT takes keypoints: "
                                      f"(B, T, {KEYPOINT_FEATURES}) from keypoint_input.keypoint_features")
            return inputs
        if inputs.dim() == 5 and inputs.shape[2:] == (24, 3, 3):
            inputs = matrix_to_rot6d(inputs)
        if inputs.dim() != 4 or inputs.shape[2:] != (24, 6):
            raise InputShapeError(
                f"poses has shape {tuple(inputs.shape)}; PoseBERT takes (B, T, 24, 6) 6D or (B, T, 24, 3, 3) matrices"
            )
        return inputs.flatten(2)


def nearest_observed(inputs: torch.Tensor, observed: torch.Tensor, fallback: torch.Tensor) -> torch.Tensor:
    """inputs (B, T, F), observed (B, T) bool, fallback (B, T, F) -> (B, T, F): each frame's
    input if observed, else the input of the nearest observed frame (the earlier on a tie),
    ``fallback`` in a window with no observed frame."""
    b, t = observed.shape
    steps = torch.arange(t, device=observed.device).expand(b, t)
    before = torch.where(observed, steps, -1).cummax(1).values  # last observed at or before t, -1: none
    after = torch.where(observed, steps, t).flip(1).cummin(1).values.flip(1)  # first at or after t, t: none
    use_after = (before < 0) | ((after < t) & (after - steps < steps - before))
    source = torch.where(use_after, after, before).clamp(0, t - 1)
    picked = inputs.gather(1, source[..., None].expand_as(inputs))
    return torch.where(observed.any(1)[:, None, None], picked, fallback)


def smoothed_observed(inputs: torch.Tensor, observed: torch.Tensor, sigma: float, fallback: torch.Tensor
                      ) -> torch.Tensor:
    """inputs (B, T, F), observed (B, T) -> (B, T, F): at each frame the mean of the observed
    frames' inputs weighted by exp(-d^2 / 2 sigma^2) over distances d <= 3 sigma frames;
    ``fallback`` (B, T, F) where no observed frame is that near."""
    radius = int(3 * sigma)
    offsets = torch.arange(-radius, radius + 1, device=inputs.device, dtype=inputs.dtype)
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)[None, None]  # (1, 1, K)
    b, t, f = inputs.shape
    weight = observed.to(inputs.dtype)[:, None]  # (B, 1, T)
    values = torch.where(observed[..., None], inputs, 0.0).transpose(1, 2)  # (B, F, T)
    total = F.conv1d(values.reshape(b * f, 1, t), kernel, padding=radius).reshape(b, f, t)
    norm = F.conv1d(weight, kernel, padding=radius)  # (B, 1, T)
    smoothed = (total / norm.clamp_min(1e-12)).transpose(1, 2)
    return torch.where((norm > 0).transpose(1, 2), smoothed, fallback)


def window_reference(inputs: torch.Tensor, observed: torch.Tensor) -> torch.Tensor:
    """inputs (B, T, 144) 6D, observed (B, T) -> (B, 3, 3): the root rotation of the observed
    frame nearest each window's centre (identity in a window with none)."""
    b, t = observed.shape
    identity = matrix_to_rot6d(torch.eye(3, device=inputs.device, dtype=inputs.dtype)).expand(b, t, 6)
    root = nearest_observed(inputs[..., :6], observed, identity)[:, t // 2]
    return rot6d_to_matrix(root)


def turn_roots_6d(poses: torch.Tensor, turn: torch.Tensor) -> torch.Tensor:
    """poses (B, T, 144) 6D, turn (B, 3, 3) -> (B, T, 144) with every root rotation R made turn @ R.

    6D holds the first two columns of R, so turn @ R's are turn @ those columns: exact, no
    Gram-Schmidt in between."""
    b, t = poses.shape[:2]
    root = poses[..., :6].reshape(b, t, 3, 2)  # the (3, 2) column pairs, as rot6d_to_matrix reads them
    turned = (turn[:, None] @ root).reshape(b, t, 6)
    return torch.cat([turned, poses[..., 6:]], -1)


# The constructor arguments a checkpoint records, with their (the paper's) defaults.
CONFIG_DEFAULTS = {name: arg.default for name, arg in inspect.signature(PoseBERT.__init__).parameters.items()
                   if name not in ("self", "init_pose")}
CONFIG_KEYS = tuple(CONFIG_DEFAULTS)


def build_posebert(variant: str = "paper", **overrides) -> PoseBERT:
    """A PoseBERT of ``variant`` ("paper" or "released"), any constructor argument overridden
    (``max_len, dim, depth, heads, hidden, dropout, feed_forward, regressor, share_regressor,
    regressor_iterations, positional_encoding, input, skeleton, init_pose``)."""
    if variant not in VARIANTS:
        raise MocapHMRError(f"PoseBERT variant '{variant}' is not one of {', '.join(VARIANTS)}")
    unknown = sorted(set(overrides) - set(CONFIG_KEYS) - {"init_pose"})
    if unknown:
        raise MocapHMRError(f"unknown PoseBERT option(s) {', '.join(unknown)}; accepted: {', '.join(CONFIG_KEYS)}, "
                            "init_pose")
    model = PoseBERT(**{**VARIANTS[variant], **overrides})
    model.variant = variant
    return model


def mean_pose_6d(poses: torch.Tensor) -> torch.Tensor:
    """A mean pose for ``init_pose``: poses (N, 24, 3) axis-angle or (N, 24, 3, 3) -> (144,),
    the 6D of the per-joint mean rotation matrix, made a rotation again by Gram-Schmidt."""
    rotmat = poses if poses.shape[-2:] == (3, 3) else axis_angle_to_matrix(poses)
    return matrix_to_rot6d(rot6d_to_matrix(matrix_to_rot6d(rotmat).mean(0))).reshape(NPOSE)


def save_posebert(model: PoseBERT, path: str | os.PathLike, config: Mapping | None = None) -> None:
    """Write ``{"format": "mocap-hmr-posebert", "variant", "config", "model": state_dict}`` atomically.

    config: the constructor arguments to record (default: ``model.config``); one that does
    not rebuild this model's parameter shapes is refused, so the file always loads."""
    config = dict(model.config if config is None else config)
    if config != model.config:
        load_weights(_build_from_config(model.variant, config, f"config given to save_posebert for {path}"),
                     model.state_dict(), f"the model saved to {path}")
    payload = {"format": CHECKPOINT_FORMAT, "variant": model.variant, "config": config,
               "model": {k: v.detach().cpu() for k, v in model.state_dict().items()}}
    atomic_write(path, lambda fh: torch.save(payload, fh))


def load_posebert(path: str | os.PathLike, device: str | torch.device = "cpu") -> PoseBERT:
    """A PoseBERT (in eval mode, on ``device``) from our checkpoint format, from naver/posebert's
    release (``{"model_state_dict": ...}``: the released architecture) or from a bare state dict
    (architecture read off its keys and shapes, see ``config_from_state_dict``)."""
    source = str(path)
    obj = read_checkpoint(path, device)
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"{source}: holds a {type(obj).__name__}, not a PoseBERT checkpoint (a dict)")
    if obj.get("format") == CHECKPOINT_FORMAT:
        missing = [k for k in ("variant", "config", "model") if k not in obj]
        if missing:
            raise CheckpointError(f"{source}: {CHECKPOINT_FORMAT} checkpoint without {', '.join(missing)}")
        model, state_dict = _build_from_config(obj["variant"], obj["config"], source), obj["model"]
    else:
        state_dict = state_dict_of(obj, source)
        config = config_from_state_dict(state_dict, source)
        model = _build_from_config("released" if config["feed_forward"] else "paper", config, source)
    load_weights(model, state_dict, source)
    return model.to(device).eval()


def _build_from_config(variant: str, config: Mapping, source: str) -> PoseBERT:
    unknown = sorted(set(config) - set(CONFIG_KEYS))
    if unknown:
        raise CheckpointError(f"{source}: unknown PoseBERT option(s) {', '.join(unknown)} in its config "
                              f"(accepted: {', '.join(CONFIG_KEYS)}); written by a newer mocap-hmr?")
    model = PoseBERT(**config)
    model.variant = variant
    return model


def config_from_state_dict(state_dict: Mapping[str, torch.Tensor], source: str) -> dict:
    """Constructor arguments read off a bare state dict: dim, depth, max_len (or no positional
    table), feed-forward layers, regressor placement, hidden width, and sharing (the regressor
    is shared when its copies under every block are equal). Not stored in a state dict:
    heads (taken as channels / 64, the release's), regressor iterations (1) and whether the
    table is added at the input or every block (input). Keys it cannot find keep the
    release's values, so a foreign checkpoint fails at loading with the keys that differ."""
    config = {**CONFIG_DEFAULTS, **VARIANTS["released"]}
    emb = state_dict.get("emb.weight")
    if emb is not None:
        inputs = {width: name for name, width in INPUTS.items()}
        config.update(dim=emb.shape[0], heads=max(1, emb.shape[0] // RELEASE_HEAD_DIM),
                      input=inputs.get(emb.shape[1], "smpl"))
    if "pos.pe" in state_dict:
        config["max_len"] = state_dict["pos.pe"].shape[1]
    elif emb is not None:
        config["positional_encoding"] = "none"
    blocks = {int(k.split(".")[2]) for k in state_dict if k.startswith("decoder.layers.")}
    if not blocks:
        return config
    sub_layers = len({k.split(".")[3] for k in state_dict if k.startswith("decoder.layers.0.")})
    on_top = any(k.startswith("decoder.regressor.") for k in state_dict)
    regressor = "decoder.regressor" if on_top else f"decoder.layers.0.{sub_layers - 1}"
    config.update(depth=len(blocks), regressor="top" if on_top else "blocks",
                  feed_forward=sub_layers == (2 if on_top else 3))
    if f"{regressor}.fn.net.0.weight" in state_dict:
        config["hidden"] = state_dict[f"{regressor}.fn.net.0.weight"].shape[0]
    if not on_top:
        copies = [(k, k.replace("decoder.layers.0.", f"decoder.layers.{i}.", 1))
                  for k in state_dict if k.startswith(regressor + ".") for i in sorted(blocks)[1:]]
        config["share_regressor"] = all(other in state_dict and torch.equal(state_dict[k], state_dict[other])
                                        for k, other in copies)
    return config

