"""The PoseBERT step: windows from the AMASS (or procedural) index, masked and noised by
``SequenceSampler``, refined by PoseBERT, and pulled towards the clean poses.

Loss (as naver/posebert describes its training): L2 on the rotation matrices of all 24
joints (global orientation and body pose) plus L2 on the 3D joints the poses give a body
(forward kinematics from the body model's rest joints), averaged over frames.

Keypoint input (``posebert.input=h36m``, the paper's LCRNet++ experiment): each window is
seen from a random camera (turned about the vertical by a uniform angle, then into OpenCV's
y-down axes); the input is the H36M joints of the noisy poses (regressed from the skinned
body without building the mesh) plus Gaussian noise of ``keypoint_noise_std`` metres,
rescaled to the body's rest skeleton and turned into ``keypoint_features``; the target is
the clean pose with its root in that camera's frame."""

from __future__ import annotations

import torch
from omegaconf import DictConfig

from mocap_hmr.body import BodyModel
from mocap_hmr.body.kinematics import forward_kinematics, regressed_joints, regressor_anchors
from mocap_hmr.data.motion_index import MotionIndex
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.geometry import axis_angle_to_matrix
from mocap_hmr.models.keypoint_input import keypoint_features
from mocap_hmr.models.posebert import build_posebert, mean_pose_6d
from samplers.cameras import FLIP
from samplers.sequences import SequenceSampler

MEAN_POSE_FRAMES = 20_000  # frames the mean pose is estimated from


class PoseBertTrainer:
    """Owns PoseBERT, its optimizer and sampler; ``step(generator)`` runs one update."""

    def __init__(self, cfg: DictConfig, index: MotionIndex, body: BodyModel, device: torch.device, log=print):
        self.cfg, self.device = cfg, device
        with torch.no_grad():
            rest = body(torch.zeros(1, 24, 3, device=device))
        self.rest_joints = rest.joints[0]
        stride = max(1, index.num_frames // MEAN_POSE_FRAMES)
        self.model_config = {"max_len": cfg.window, "dim": cfg.dim, "depth": cfg.depth, "heads": cfg.heads,
                             "input": cfg.input}
        if cfg.input == "h36m":
            if rest.h36m_joints is None:
                raise MocapHMRError(f"posebert.input=h36m needs the H36M joint regressor: no J_regressor_h36m.npy "
                                    f"next to {body.model_file}")
            self.model_config["skeleton"] = rest.h36m_joints[0].tolist()
            self.h36m_anchors = regressor_anchors(body.J_regressor_h36m, body.smpl.lbs_weights,
                                                  body.smpl.v_template, self.rest_joints)
        mean_pose = mean_pose_6d(index.poses[::stride].cpu())  # kept in the model's init_pose buffer
        self.model = build_posebert(cfg.variant, init_pose=mean_pose, **self.model_config).to(device)
        self.sampler = SequenceSampler(index, window=cfg.window, fps=cfg.fps, masked_frames=cfg.masked_frames,
                                       mask_mode=cfg.mask_mode, noise_std=cfg.noise_std,
                                       random_pose=cfg.random_pose, random_joint=cfg.random_joint)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr)
        parameters = sum(p.numel() for p in self.model.parameters())
        log(f"posebert: {cfg.variant}, T={cfg.window}, Dt={cfg.dim}, L={cfg.depth}: {parameters:,} parameters; "
            f"{self.sampler.excluded} sequences shorter than a window left out")

    def step(self, generator: torch.Generator) -> dict[str, float]:
        self.model.train()
        with torch.no_grad():
            batch = self.sampler.sample(self.cfg.batch_size, generator)
            target = axis_angle_to_matrix(batch["poses"])  # (B, T, 24, 3, 3)
            inputs = axis_angle_to_matrix(batch["inputs"])
            if self.cfg.input == "h36m":
                inputs, target = self._keypoint_inputs(inputs, target, generator)
            target_joints = forward_kinematics(target, self.rest_joints)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.device.type == "cuda"):
            pred = self.model(inputs, batch["observed"]).rotmat.float()
        rotation = ((pred - target) ** 2).mean()
        joints = ((forward_kinematics(pred, self.rest_joints) - target_joints) ** 2).sum(-1).mean()
        loss = self.cfg.rotation_weight * rotation + self.cfg.joints_weight * joints
        terms = {"loss": loss, "rotation": rotation, "joints": joints}
        if torch.isfinite(loss):
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
        return {k: float(v.detach()) for k, v in terms.items()}

    def _keypoint_inputs(self, inputs: torch.Tensor, target: torch.Tensor, generator: torch.Generator
                         ) -> tuple[torch.Tensor, torch.Tensor]:
        """Noisy rotations (B, T, 24, 3, 3) -> keypoint features (B, T, 54) seen from a random
        camera, and the target (B, T, 24, 3, 3) with its root turned into that camera's frame."""
        b = inputs.shape[0]
        yaw = (2 * torch.rand(b, device=self.device, generator=generator) - 1) * torch.pi
        view = FLIP.to(self.device) @ axis_angle_to_matrix(yaw[:, None] * torch.tensor([0.0, 1.0, 0.0],
                                                                                     device=self.device))
        target = torch.cat([view[:, None, None] @ target[:, :, :1], target[:, :, 1:]], 2)
        joints = regressed_joints(inputs, self.rest_joints, self.h36m_anchors) @ view[:, None].transpose(-1, -2)
        joints = joints + self.cfg.keypoint_noise_std * torch.randn(joints.shape, device=self.device,
                                                                    generator=generator)
        return keypoint_features(joints, self.model.skeleton), target

    def state_dict(self) -> dict:
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
