"""The PoseBERT step: windows from the AMASS (or procedural) index, masked and noised by
``SequenceSampler``, refined by PoseBERT, and pulled towards the clean poses.

Loss (as naver/posebert describes its training): L2 on the rotation matrices of all 24
joints (global orientation and body pose) plus L2 on the 3D joints the poses give a body
(forward kinematics from the body model's rest joints), averaged over frames; and, weighted
by ``posebert.accel_weight`` (0 in the paper), L2 on the joints' acceleration (their second
difference over time) against the clean motion's, which asks for smooth output directly.

Views (``posebert.view``): image models predict the global orientation in their camera's
frame (OpenCV axes, y down), not in the corpus's Y-up world frame, so by default
(``camera``) each window is seen from a random camera drawn like the renderer's (Tait-Bryan
yaw, pitch, roll): the root of inputs and targets turns into that camera's frame. ``world``
keeps the corpus frame (for smoothing world-frame motion).

Keypoint input (``posebert.input=h36m``, the paper's LCRNet++ experiment): the input is the
H36M joints of the noisy poses (regressed from the skinned body without building the mesh)
plus Gaussian noise of ``keypoint_noise_std`` metres, rescaled to the body's rest skeleton
and turned into ``keypoint_features``."""

from __future__ import annotations

from pathlib import Path

import torch
from omegaconf import DictConfig

from mocap_hmr.body import BodyModel
from mocap_hmr.body.kinematics import forward_kinematics, regressed_joints, regressor_anchors, turn_root
from mocap_hmr.data.motion_index import MotionIndex
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.geometry import axis_angle_to_matrix
from mocap_hmr.geometry.cameras import FLIP
from mocap_hmr.losses import acceleration_loss
from mocap_hmr.models.keypoint_input import keypoint_features
from mocap_hmr.models.posebert import build_posebert, mean_pose_6d, save_posebert
from mocap_hmr.training.compile import compile_errors, compile_once, host_floats
from mocap_hmr.training.distributed import all_finite, unwrap
from samplers.cameras import CameraSampler
from samplers.sequences import SequenceSampler

# posebert.* keys that are PoseBERT constructor arguments of the same name (posebert.window is max_len)
MODEL_KEYS = ("dim", "depth", "heads", "input", "start", "start_sigma", "canonical_root", "regressor",
              "share_regressor", "regressor_iterations", "positional_encoding")
MEAN_POSE_FRAMES = 20_000  # frames the mean pose is estimated from
POSEBERT_MODEL = "posebert.pt"  # in a run folder (training.runner)


class PoseBertTrainer:
    """Owns PoseBERT, its optimizer and sampler; ``step(generator)`` runs one update. What a run
    folder gets from it (``training.runner`` asks): no pictures, ``export(out)`` after the last
    step."""

    picture_every, picture_tag = 0, "posebert/predictions"

    def __init__(self, cfg: DictConfig, index: MotionIndex, body: BodyModel, device: torch.device, log=print):
        self.cfg, self.device = cfg, device
        with torch.no_grad():
            rest = body(torch.zeros(1, 24, 3, device=device))
        self.rest_joints = rest.joints[0]
        if cfg.exclude:
            kept = index.without(list(cfg.exclude))
            if kept.num_sequences == 0:
                raise MocapHMRError(f"posebert.exclude={list(cfg.exclude)} leaves none of the "
                                    f"{index.num_sequences} motion sequences to train on")
            log(f"posebert: posebert.exclude leaves out {index.num_sequences - kept.num_sequences} of "
                f"{index.num_sequences} sequences ({', '.join(cfg.exclude)})")
            index = kept
        stride = max(1, index.num_frames // MEAN_POSE_FRAMES)
        self.model_config = {"max_len": cfg.window, **{key: cfg[key] for key in MODEL_KEYS}}
        if cfg.input == "h36m":
            if rest.h36m_joints is None:
                raise MocapHMRError(f"posebert.input=h36m needs the H36M joint regressor: no J_regressor_h36m.npy "
                                    f"next to {body.model_file}")
            self.model_config["skeleton"] = rest.h36m_joints[0].tolist()
            self.h36m_anchors = regressor_anchors(body.J_regressor_h36m, body.smpl.lbs_weights,
                                                  body.smpl.v_template, self.rest_joints)
        mean_pose = mean_pose_6d(index.poses[::stride].cpu())  # kept in the model's init_pose buffer
        self.model = build_posebert(cfg.variant, init_pose=mean_pose, **self.model_config).to(device)
        self.cameras, self.flip = CameraSampler(), FLIP.to(device)
        self.sampler = SequenceSampler(index, window=cfg.window, fps=cfg.fps, masked_frames=cfg.masked_frames,
                                       mask_mode=cfg.mask_mode, noise_std=cfg.noise_std,
                                       random_pose=cfg.random_pose, random_joint=cfg.random_joint)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr)
        parameters = sum(p.numel() for p in self.model.parameters())
        log(f"posebert: {cfg.variant}, T={cfg.window}, Dt={cfg.dim}, L={cfg.depth}: {parameters:,} parameters; "
            f"{self.sampler.excluded} sequences shorter than a window left out")
        self.compile_pending = cfg.compile  # at the first step: after the runner's DDP wrap (training.compile)
        if cfg.compile:
            log("posebert: compile=true: PoseBERT is compiled at the first step (which takes longer)")

    @compile_errors("posebert.compile")
    def step(self, generator: torch.Generator) -> dict[str, float]:
        self.compile_pending = compile_once(self.model, self.compile_pending)
        self.model.train()
        with torch.no_grad():
            batch = self.sampler.sample(self.cfg.batch_size, generator)
            target = axis_angle_to_matrix(batch["poses"])  # (B, T, 24, 3, 3)
            inputs = axis_angle_to_matrix(batch["inputs"])
            if self.cfg.view == "camera":
                view = self.flip @ self.cameras.sample(len(target), generator)["R"]  # (B, 3, 3)
                inputs, target = turn_root(inputs, view), turn_root(target, view)
            if self.cfg.input == "h36m":
                inputs = self._keypoint_inputs(inputs, generator)
            target_joints = forward_kinematics(target, self.rest_joints)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.device.type == "cuda"):
            pred = self.model(inputs, batch["observed"]).rotmat.float()
        rotation = ((pred - target) ** 2).mean()
        pred_joints = forward_kinematics(pred, self.rest_joints)
        joints = ((pred_joints - target_joints) ** 2).sum(-1).mean()
        accel = acceleration_loss(pred_joints, target_joints)
        loss = self.cfg.rotation_weight * rotation + self.cfg.joints_weight * joints + self.cfg.accel_weight * accel
        terms = {"loss": loss, "rotation": rotation, "joints": joints, "accel": accel}
        if all_finite(loss):  # every process agrees, or the gradient all-reduce would mismatch
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
        return host_floats(terms)

    def _keypoint_inputs(self, inputs: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Noisy rotations (B, T, 24, 3, 3) -> keypoint features (B, T, 54)."""
        joints = regressed_joints(inputs, self.rest_joints, self.h36m_anchors)
        joints = joints + self.cfg.keypoint_noise_std * torch.randn(joints.shape, device=self.device,
                                                                    generator=generator)
        return keypoint_features(joints, self.model.skeleton)

    def picture(self) -> None:
        """PoseBERT draws no training pictures (``picture_every`` is 0)."""
        return None

    def export_start(self, out: Path) -> None:
        """Nothing: a PoseBERT run's starting model is not kept."""

    def export(self, out: Path) -> None:
        """``out/posebert.pt``: the trained PoseBERT with its configuration (``mocap-hmr smooth``)."""
        save_posebert(unwrap(self.model), out / POSEBERT_MODEL, self.model_config)

    def state_dict(self) -> dict:
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
