"""Does an image model read poses? Before asking a fine-tuning to move a starting model, ask
how much the starting model takes from its images at all, on images of the domain it was
trained on but of sequences it never saw (the embedded world's real-domain held-out split):

- its PA-MPJPE against its own prior's (the mean pose: ``HMR.predict_prior``);
- the *spread* of its predictions: the standard deviation over the samples of the body
  joints' predicted rotation matrices, as a fraction of the truth's (0: the same pose for
  every image; 1: as varied as the truth), the sign of a regression to the mean;
- its heading error: the angle about the vertical between the predicted and the true
  body's facing direction, over all samples and for frontal or back views apart from side
  views (a model that cannot tell front from back errs by up to 180 degrees on the former);
- what simple readers would score: the nearest training pose of each test pose (how well
  the training poses cover the test's, the floor of a perfect reader of this training set)
  and the medoid of its cluster among ``k`` clusters of the training poses (a reader that
  only tells ``k`` kinds of pose apart).

Scores use eval.py's protocol (14 LSP joints from the mesh's H36M joints, mm).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch

from mocap_hmr.body import BodyModel
from mocap_hmr.evaluation.predict import predict
from mocap_hmr.evaluation.report import markdown_table
from mocap_hmr.evaluation.run import smpl_protocol
from mocap_hmr.evaluation.scoring import body_points, score_frames
from mocap_hmr.geometry import axis_angle_to_matrix, rot6d_to_matrix
from mocap_hmr.models.hmr import HMR

KINDS = (5, 20)  # cluster counts of the "k kinds of pose" readers
KMEANS_ITERATIONS = 20
FRONTAL_DEGREES = 45.0  # |heading| within this of facing the camera or facing away: a frontal or back view
BATCH = 64


@dataclass
class PoseReading:
    """Mean PA-MPJPE (mm) of the model, its prior and the simple readers; spread (fraction);
    heading errors (median degrees) over all samples, frontal or back views and side views."""

    samples: int
    model: float
    mean_pose: float
    nearest_training_pose: float
    kinds: dict[int, float]
    spread: float
    heading_all: float
    heading_frontal_or_back: float
    heading_side: float

    def to_json(self) -> dict:
        return {**asdict(self), "kinds": {str(k): v for k, v in self.kinds.items()}}

    def markdown(self) -> str:
        rows = [["the model", f"{self.model:.1f}"], ["its prior (the mean pose)", f"{self.mean_pose:.1f}"],
                ["nearest training pose", f"{self.nearest_training_pose:.1f}"]]
        rows += [[f"medoid of its kind among {k} kinds of training pose", f"{v:.1f}"] for k, v in self.kinds.items()]
        lines = [*markdown_table(["Reader", "PA-MPJPE (mm)"], rows), "",
                 f"{self.samples} held-out samples. Spread of the predicted body-joint rotations: "
                 f"{self.spread:.2f} of the truth's. Median heading error: {self.heading_all:.0f} degrees "
                 f"({self.heading_frontal_or_back:.0f} on frontal or back views, "
                 f"{self.heading_side:.0f} on side views)."]
        return "\n".join(lines)


def prediction_spread(pred: torch.Tensor, truth: torch.Tensor) -> float:
    """pred, truth (N, 24, 3, 3) rotation matrices -> the mean over the body joints' (1..23)
    entries of the predictions' standard deviation over the samples, over the truth's."""
    return float(pred[:, 1:].std(0).mean() / truth[:, 1:].std(0).mean())


def heading(root: torch.Tensor) -> torch.Tensor:
    """root (N, 3, 3) body-to-camera rotations -> (N,) degrees about the camera's vertical of the
    body's facing direction (SMPL's +Z): 0 facing the camera, +-180 facing away."""
    facing = root[:, :, 2]
    return torch.rad2deg(torch.atan2(facing[:, 0], -facing[:, 2]))


def angle_between(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Absolute difference of angles in degrees, wrapped into [0, 180]."""
    return ((a - b + 180.0) % 360.0 - 180.0).abs()


def root_free_joints(body: BodyModel, pose: torch.Tensor, betas: torch.Tensor) -> torch.Tensor:
    """(N, 17 * 3) H36M joints of the poses (N, 24, 3) with the root turned to the identity,
    centred on the first joint: what the poses' bodies look like, wherever they face."""
    rotmat = axis_angle_to_matrix(pose).clone()
    rotmat[:, 0] = torch.eye(3)
    joints = body_points(body, rotmat, betas)[1]
    return (joints - joints[:, :1]).flatten(1)


def kind_medoids(points: torch.Tensor, k: int, seed: int = 0) -> torch.Tensor:
    """Indices (k,) into points (N, D) of the medoids of ``k`` k-means clusters (k-means++
    seeding, then Lloyd's iterations; seeded)."""
    generator = torch.Generator().manual_seed(seed)
    chosen = [int(torch.randint(len(points), (1,), generator=generator))]
    for _ in range(1, k):
        nearest = torch.cdist(points, points[chosen]).min(1).values ** 2
        chosen.append(int(torch.multinomial(nearest + 1e-12, 1, generator=generator)))
    centres = points[chosen]
    for _ in range(KMEANS_ITERATIONS):
        label = torch.cdist(points, centres).argmin(1)
        centres = torch.stack([points[label == c].mean(0) if (label == c).any() else centres[c] for c in range(k)])
    return torch.cdist(centres, points).argmin(1)


def read_poses(model: HMR, body: BodyModel, train_pose: torch.Tensor, train_betas: torch.Tensor,
               images: torch.Tensor, pose: torch.Tensor, betas: torch.Tensor) -> PoseReading:
    """How much ``model`` reads from test ``images`` (N, 3, S, S) of bodies ``pose`` (N, 24, 3)
    axis-angle, root in the camera frame, ``betas`` (N, 10), given the poses it was trained on
    (``train_pose`` (M, 24, 3), ``train_betas`` (M, 10))."""
    was_training = model.training
    model.eval()
    batches = (images[i:i + BATCH] for i in range(0, len(images), BATCH))
    predicted = predict(model, batches, -(-len(images) // BATCH), "reading poses")
    model.train(was_training)
    rotmat = torch.from_numpy(predicted["rotmat"])
    truth_rotmat = axis_angle_to_matrix(pose)
    truth = body_points(body, truth_rotmat, betas)[1]
    protocol = smpl_protocol("pelvis")

    def score(predicted_rotmat: torch.Tensor, predicted_betas: torch.Tensor) -> float:
        joints = body_points(body, predicted_rotmat, predicted_betas)[1]
        return float(score_frames(joints, truth, protocol)["pa_mpjpe"].mean())

    prior = model.init_pose.detach().cpu().reshape(1, 24, 6)
    prior_rotmat = rot6d_to_matrix(prior).expand(len(pose), -1, -1, -1)
    prior_betas = model.init_shape.detach().cpu().expand(len(pose), -1)
    train_points, test_points = root_free_joints(body, train_pose, train_betas), root_free_joints(body, pose, betas)

    def reader(chosen: torch.Tensor) -> float:
        """The score of predicting, for each test sample, the training pose ``chosen`` (N,)."""
        body_pose = axis_angle_to_matrix(train_pose[chosen]).clone()
        body_pose[:, 0] = truth_rotmat[:, 0]
        return score(body_pose, betas)

    kinds = {}
    for k in KINDS:
        medoids = kind_medoids(train_points, min(k, len(train_points)))
        kinds[k] = reader(medoids[torch.cdist(test_points, train_points[medoids]).argmin(1)])
    true_heading = heading(truth_rotmat[:, 0])
    errors = angle_between(heading(rotmat[:, 0]), true_heading)
    frontal = (true_heading.abs() < FRONTAL_DEGREES) | (true_heading.abs() > 180.0 - FRONTAL_DEGREES)

    def median(values: torch.Tensor) -> float:
        return float(values.median()) if len(values) else math.nan

    return PoseReading(
        samples=len(pose), model=score(rotmat, torch.from_numpy(predicted["betas"])),
        mean_pose=score(prior_rotmat, prior_betas),
        nearest_training_pose=reader(torch.cdist(test_points, train_points).argmin(1)), kinds=kinds,
        spread=prediction_spread(rotmat, truth_rotmat), heading_all=median(errors),
        heading_frontal_or_back=median(errors[frontal]), heading_side=median(errors[~frontal]))
