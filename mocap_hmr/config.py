"""The configuration schema (omegaconf structured dataclasses) and the command-line merge.

``python train.py [--config FILE] [key=value ...]``: the schema's defaults, then the YAML
preset, then the ``key=value`` overrides; an unknown key, a value of the wrong type or one out of
its key's range (``config_rules``) stops with the key and what it accepts. Keys whose value is
one of a few names (``render.backend``, ``posebert.view``, ...) are plain strings here; their
names are declared once in ``mocap_hmr.choices``. The resolved configuration is saved with
every run.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import MISSING, DictConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

from mocap_hmr.config_rules import validate
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.losses import SpinLossWeights

# train.py, eval.py and mocap-hmr study without --config: the embedded default (a source checkout
# or an editable install)
DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "default.yaml"


@dataclass
class BodyConfig:
    model_path: str | None = None  # SMPL folder or file; None: $SMPL_DIR, else the stand-in body


@dataclass
class MotionConfig:
    index: str | None = None  # a motion index (mocap-hmr index-amass); None: the procedural corpus
    fps: float = 30.0


@dataclass
class RenderConfig:
    image_size: int = 224
    backend: str = "auto"  # auto | torch | pytorch3d
    textures: str | None = None  # folder of UV textures; None: skin textures + procedural clothes
    backgrounds: str | None = None  # folder of photographs; None: procedural backgrounds
    texture_size: int | None = None  # None: 256 up to 128 px crops, else 512
    augment: bool = True


@dataclass
class FeatureAlignmentConfig:
    """Weights of the feature-alignment losses between paired real and rendered samples
    (Table 8: the paper uses 1e-3, 1e-3, 1e-2 one at a time); 0 turns a term off."""

    l2: float = 0.0
    cosine: float = 0.0
    contrastive: float = 0.0
    temperature: float = 0.1


@dataclass
class RealDatasetConfig:
    npz: str = MISSING  # a SPIN dataset file, e.g. datasets/npz/coco_2014_train.npz
    images: str = MISSING  # the folder its imgname paths are relative to
    share: float | None = None  # its share of the real half (SPIN: h36m 0.3, mpi-inf-3dhp 0.1); unset: by size
    fits: str | None = None  # SPIN's fits of it, data/static_fits/<dataset>_fits.npy; None: no SMPL targets from fits


@dataclass
class MocapSpinConfig:
    enabled: bool = True
    backbone: str = "resnet50"  # resnet50 (SPIN's) | resnet18 | tiny
    checkpoint: str | None = None  # SPIN's model_checkpoint.pt (or any checkpoint of this HMR)
    mean_params: str | None = None  # SPIN's smpl_mean_params.npz; None: identity pose, SPIN's mean camera
    trainable: str = "bn"  # mocap_hmr.choices.TRAINABLE (models.finetune says what each trains)
    iterations: int = 14000
    batch_size: int = 64
    synthetic_fraction: float = 0.5
    # motion: rendered poses come from the motion corpus; paired: the rendered half renders the
    # real half's (pseudo ground-truth) poses, sample for sample (needs synthetic_fraction 0.5)
    synthetic_source: str = "motion"
    feature_alignment: FeatureAlignmentConfig = field(default_factory=FeatureAlignmentConfig)
    real: list[RealDatasetConfig] = field(default_factory=list)  # empty: the embedded world's real domain
    real_workers: int = 2  # DataLoader worker processes decoding real images
    skip_bad: bool = False  # skip (and count) dataset images that are missing or cannot be decoded
    fit_threshold: float = 100.0  # SPIN's smplify_threshold: a fit supervises where its 2D error is below it
    lr: float = 3e-5
    lr_milestones: list[int] = field(default_factory=lambda: [10000, 12000])
    lr_gamma: float = 0.1
    loss: SpinLossWeights = field(default_factory=SpinLossWeights)  # SPIN's weights
    checkpoint_every: int = 1000
    log_every: int = 10
    picture_every: int = 500
    compile: bool = False  # torch.compile HMR at the first step (training.compile; docs/benchmarks.md)
    precision: str = "bf16"  # bf16: HMR's forward under bf16 autocast on CUDA | fp32: float32 throughout


@dataclass
class StandInSpinConfig:
    """The embedded default's starting model (``training.stand_in_spin``): trained on the embedded
    world's real domain alone, built once into the cache. Used when ``mocap_spin.checkpoint`` and
    ``mocap_spin.real`` are both unset."""

    enabled: bool = True  # false: start from a random initialisation instead
    images: int = 4096  # crops of the real domain's training split (a finite set, as a dataset is)
    held_out_images: int = 512  # crops of its held-out split, scored every eval_every steps
    max_steps: int = 3500
    eval_every: int = 250
    patience: int = 4  # scores without improvement at the final rate before stopping (the best weights are kept)
    lr: float | None = None  # None: the backbone's (training.stand_in_spin.BACKBONE_LR; tiny 3e-4)
    lr_milestones: list[int] = field(default_factory=lambda: [1500, 2500])  # each divides the rate by 10
    batch_size: int = 64
    seed: int = 0  # another seed is another build: its crops (held-out: seed + 1), initialisation, batches
    # the gap families' share of the real domain's frames (data.embedded_world.real_domain_corpus):
    # 0, the default, leaves them out as the paper's gap; > 0 makes them a tail of rare poses
    gap_share: float = 0.0
    loss: SpinLossWeights = field(default_factory=SpinLossWeights)


@dataclass
class PoseBertConfig:
    enabled: bool = True
    variant: str = "paper"  # paper | released
    input: str = "smpl"  # smpl (24 x 6D poses) | h36m (17 3D keypoints: the LCRNet++ experiment, posebert_h36m)
    keypoint_noise_std: float = 0.01  # input=h36m: Gaussian noise on the keypoints (metres)
    view: str = "camera"  # camera: root seen from random cameras, as image models predict it | world: the corpus frame
    window: int = 16  # T
    dim: int = 512  # Dt
    depth: int = 4  # L
    heads: int = 8
    # The architecture's switches (Tables 3 and 11; mocap_hmr.models.posebert): the regressor's
    # starting pose, where it sits (blocks | top),
    # shared across blocks, its iterations per block, the positional table (input | every_block | none)
    start: str = "mean"  # mean (the paper's) | input | smoothed: the regressor's starting pose
    start_sigma: float = 3.0  # start=smoothed: Gaussian width in frames (about the tuned 11-frame average's)
    canonical_root: bool = False  # see each window in the frame of its centre frame's root: orientation-equivariant
    regressor: str = "blocks"
    share_regressor: bool = True
    regressor_iterations: int = 1
    positional_encoding: str = "input"
    exclude: list[str] = field(default_factory=list)  # motion sequences PoseBERT never sees (names, fnmatch patterns)
    fps: float = 30.0  # a divisor of the motion index's rate (15, 7.5, 3.75: Table 5)
    masked_frames: float = 2.0  # expected masked frames per window: 12.5% of 16
    mask_mode: str = "bernoulli"  # bernoulli | span
    noise_std: float = 0.05  # Gaussian noise on axis-angle inputs (radians)
    random_pose: float = 0.0  # fraction of frames replaced by random poses (Table 11)
    random_joint: float = 0.0  # fraction of joints replaced by random rotations (Table 11)
    iterations: int = 200000
    batch_size: int = 256
    lr: float = 1e-4
    rotation_weight: float = 1.0
    joints_weight: float = 1.0
    accel_weight: float = 0.0  # L2 on the joints' second differences (not in the paper)
    checkpoint_every: int = 5000
    log_every: int = 100
    compile: bool = False  # torch.compile PoseBERT at the first step (training.compile; docs/benchmarks.md)


@dataclass
class BenchmarkConfig:
    name: str = MISSING  # 3dpw | mpi-inf-3dhp | aistpp | mupots (docs/datasets.md)
    path: str = MISSING  # what the loader reads: SPIN's npz, or the dataset's annotation folder
    images: str = MISSING  # the folder its image paths are relative to


@dataclass
class EvalConfig:
    run: str = ""  # the run folder to evaluate (default: out_dir)
    out: str = ""  # where the report goes (default: <run>/eval)
    # image: the three image sets (in-coverage, pose-gap, view-gap; each also by that name), video, denoising,
    # generalisation (docs/embedded_benchmarks.md)
    embedded: list[str] = field(default_factory=lambda: ["image", "video", "denoising", "generalisation"])
    image_samples: int = 256  # samples of each embedded image test set
    # test: the image sets from the held-out corpus, and every other benchmark; validation: the same image sets
    # from the validation corpus only (validation-in-coverage, ...), to choose recipes on; the report goes to
    # <run>/eval_validation
    split: str = "test"
    video_sequences: int = 8  # embedded video benchmark
    video_frames: int = 48
    denoising_sequences: int = 32  # embedded PoseBERT denoising benchmark
    denoising_frames: int = 64  # frames per sequence of the denoising and generalisation benchmarks
    generalisation_windows: int = 8  # sequences per motion group of the generalisation benchmark
    real: list[BenchmarkConfig] = field(default_factory=list)  # licensed benchmarks, when you have them
    align: str = "pelvis"  # pelvis (SPIN's protocol) | hips (VIBE, TCMR, WHAM)
    batch_size: int = 64
    workers: int = 2  # DataLoader processes reading real benchmark images


@dataclass
class DistributedConfig:
    """Several processes (``torchrun --nproc_per_node=N train.py``); no effect in a single process."""

    sync_batchnorm: bool = False  # HMR's batch norms normalise over (and adapt to) all processes' batches; CUDA only


@dataclass
class TrainConfig:
    out_dir: str = "runs/default"
    device: str = "auto"  # auto (cuda when available) | cpu | cuda | cuda:N
    seed: int = 0
    resume: bool = False  # continue the run in out_dir from its last checkpoint
    overwrite: bool = False  # clear the run in out_dir first (without either, a folder holding a run is refused)
    tensorboard: bool = True  # also metrics and pictures as TensorBoard events in out_dir/tensorboard (if installed)
    body: BodyConfig = field(default_factory=BodyConfig)
    motion: MotionConfig = field(default_factory=MotionConfig)
    render: RenderConfig = field(default_factory=RenderConfig)
    mocap_spin: MocapSpinConfig = field(default_factory=MocapSpinConfig)
    stand_in_spin: StandInSpinConfig = field(default_factory=StandInSpinConfig)
    posebert: PoseBertConfig = field(default_factory=PoseBertConfig)
    distributed: DistributedConfig = field(default_factory=DistributedConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)  # read by eval.py only


def _explain(exc: OmegaConfBaseException, source: str, config: DictConfig) -> MocapHMRError:
    """One line: where, which key, what is wrong, and the keys that section accepts."""
    key = getattr(exc, "full_key", None) or getattr(exc, "key", None)
    message = str(exc).splitlines()[0]
    hint = ""
    if isinstance(exc, ConfigKeyError) and key:
        parent = key.rsplit(".", 1)[0] if "." in key else ""
        section = OmegaConf.select(config, parent) if parent else config
        if isinstance(section, DictConfig):
            hint = f"; keys of {parent or 'the top level'}: {', '.join(section.keys())}"
    return MocapHMRError(f"{source}: {message}" + (f" (key: {key})" if key else "") + hint)


def load_config(config_file: str | Path | None = None, overrides: list[str] | None = None,
                schema: type = TrainConfig) -> DictConfig:
    """Schema defaults <- YAML file <- ``key=value`` overrides, then every value checked against
    its key's range and choices (``config_rules``); errors name the key."""
    config = OmegaConf.structured(schema)
    if config_file is not None:
        path = Path(config_file)
        if not path.is_file():
            raise MocapHMRError(f"--config {path}: no such file")
        try:
            config = OmegaConf.merge(config, OmegaConf.load(path))
        except OmegaConfBaseException as exc:
            raise _explain(exc, str(path), config) from exc
    for item in overrides or []:
        if "=" not in item:
            raise MocapHMRError(f"command line: '{item}' is not key=value (e.g. mocap_spin.iterations=100)")
        try:
            config = OmegaConf.merge(config, OmegaConf.from_dotlist([item]))
        except OmegaConfBaseException as exc:
            raise _explain(exc, f"command line '{item}'", config) from exc
    validate(config)
    return config


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (program: error: what), exit status 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def parse_args(argv: list[str] | None = None, description: str = "") -> DictConfig:
    """``[--config FILE] [key=value ...]`` -> the merged configuration."""
    parser = OneLineParser(description=description)
    parser.add_argument("--config", help="YAML preset (configs/default.yaml when omitted)")
    parser.add_argument("overrides", nargs="*", help="key=value, e.g. mocap_spin.iterations=100 device=cpu")
    args = parser.parse_args(argv)
    return load_config(args.config, args.overrides)


def run_script(job, argv: list[str], name: str, description: str) -> int:
    """A script's main: ``[--config FILE] [key=value ...]`` (``DEFAULT_CONFIG`` without
    --config) -> ``job(config)``; bad input prints one line on stderr and returns 2."""
    if not any(a == "--config" or a.startswith("--config=") for a in argv):
        argv = ["--config", str(DEFAULT_CONFIG), *argv]
    try:
        job(parse_args(argv, description=description))
    except MocapHMRError as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        return 2
    return 0
