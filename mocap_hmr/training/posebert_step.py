"""The PoseBERT step: windows from the AMASS (or procedural) index, masked and noised by
``SequenceSampler``, refined by PoseBERT, and pulled towards the clean poses.

Loss (as naver/posebert describes its training): L2 on the rotation matrices of all 24
joints (global orientation and body pose) plus L2 on the 3D joints the poses give a body
(forward kinematics from the body model's rest joints), averaged over frames."""

from __future__ import annotations

import torch
from omegaconf import DictConfig

from mocap_hmr.body import BodyModel
from mocap_hmr.body.kinematics import forward_kinematics
from mocap_hmr.data.motion_index import MotionIndex
from mocap_hmr.geometry import axis_angle_to_matrix
from mocap_hmr.models.posebert import build_posebert, mean_pose_6d
from samplers.sequences import SequenceSampler

MEAN_POSE_FRAMES = 20_000  # frames the mean pose is estimated from


class PoseBertTrainer:
    """Owns PoseBERT, its optimizer and sampler; ``step(generator)`` runs one update."""

    def __init__(self, cfg: DictConfig, index: MotionIndex, body: BodyModel, device: torch.device, log=print):
        self.cfg, self.device = cfg, device
        with torch.no_grad():
            self.rest_joints = body(torch.zeros(1, 24, 3, device=device)).joints[0]
        stride = max(1, index.num_frames // MEAN_POSE_FRAMES)
        self.model_config = {"max_len": cfg.window, "dim": cfg.dim, "depth": cfg.depth, "heads": cfg.heads}
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

    def state_dict(self) -> dict:
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
