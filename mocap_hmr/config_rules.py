"""Values of the configuration that type-check but make no sense: ranges and choices, checked
once, when the configuration loads (``config.load_config``). Each bad value is one line: the
key, its value and what the key accepts. The choices (keys whose value is one of a few
names) are declared once, in ``mocap_hmr.choices``; the ranges are below.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from mocap_hmr.choices import CHOICES, DEVICE, DEVICES, LIST_CHOICES, TRAINABLE
from mocap_hmr.errors import MocapHMRError

# The ResNet backbones reduce a crop 32 times before pooling: a smaller crop has no spatial
# feature left (SPIN's crops are 224 px).
MIN_IMAGE_SIZE = 32
# A sequence model needs a sequence: PoseBERT sees at least two frames per window.
MIN_WINDOW = 2
# list keys that may not be empty: a study of nothing is refused
AT_LEAST_ONE = ("study.subsets", "study.backgrounds", "study.bodies")
_ABSENT = object()

Check = Callable[[Any], "str | None"]  # value -> None when accepted, else what is accepted


class ConfigValueError(MocapHMRError, ValueError):
    """A configuration value is out of its key's range or not one of its choices."""


def whole(minimum: int, why: str = "") -> Check:
    """A whole number >= ``minimum``."""
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            return f"a whole number >= {minimum}" + (f" ({why})" if why else "")
        return None
    return check


def number(low: float = 0.0, high: float = math.inf, low_open: bool = False, why: str = "") -> Check:
    """A finite number in [low, high] (``low_open``: above ``low``)."""
    def check(value: Any) -> str | None:
        ok = (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
              and (value > low if low_open else value >= low) and value <= high)
        if ok:
            return None
        lower = f"> {low:g}" if low_open else f">= {low:g}"
        return (f"a finite number {lower}" + (f" and <= {high:g}" if high < math.inf else "")
                + (f" ({why})" if why else ""))
    return check


def positive(why: str = "") -> Check:
    return number(0.0, low_open=True, why=why)


def one_of(choices: Iterable[str]) -> Check:
    allowed = tuple(choices)
    return lambda value: None if value in allowed else f"one of {', '.join(allowed)}"


def each(check: Check) -> Check:
    """Every item of a list passes ``check``."""
    def check_all(values: Any) -> str | None:
        for item in values:
            problem = check(item)
            if problem:
                return f"a list of {problem}; {item!r} is not"
        return None
    return check_all


def some_of(choices: Iterable[str], at_least_one: bool = False) -> Check:
    """A list whose every item is one of ``choices`` (``at_least_one``: and not empty)."""
    allowed = tuple(choices)

    def check(values: Any) -> str | None:
        bad = [v for v in values if v not in allowed]
        if not bad and (len(values) or not at_least_one):
            return None
        return (f"a list of {'at least one of ' if at_least_one else ''}{', '.join(allowed)}"
                + (f"; {bad[0]!r} is not" if bad else ""))
    return check


def mapping(keys: Iterable[str], check: Check) -> Check:
    """A mapping whose keys are some of ``keys`` and whose every value passes ``check``."""
    allowed = tuple(keys)

    def check_all(values: Any) -> str | None:
        for key, value in values.items():
            problem = None if key in allowed else f"keys among {', '.join(allowed)}"
            problem = problem or check(value)
            if problem:
                return f"a mapping of {problem}; {key}: {value!r} is not"
        return None
    return check_all


def optional(check: Check) -> Check:
    return lambda value: None if value is None else check(value)


def device(value: Any) -> str | None:
    return None if isinstance(value, str) and DEVICE.fullmatch(value) else DEVICES


def rules() -> dict[str, Check]:
    """Key -> its check, for every key whose range or choices the types do not say."""
    from mocap_hmr.losses import SpinLossWeights

    table: dict[str, Check] = {
        "device": device,
        "motion.fps": positive("frames per second"),
        "render.image_size": whole(MIN_IMAGE_SIZE, f"the ResNet backbones reduce a crop {MIN_IMAGE_SIZE} times; "
                                                   "SPIN's crops are 224"),
        "render.texture_size": optional(whole(1, "pixels")),
        "mocap_spin.iterations": whole(1, "steps"),
        "stand_in_spin.images": whole(1, "crops"),
        "stand_in_spin.held_out_images": whole(1, "crops"),
        "stand_in_spin.max_steps": whole(1, "steps"),
        "stand_in_spin.eval_every": whole(1, "steps"),
        "stand_in_spin.patience": whole(1, "scores"),
        "stand_in_spin.lr": optional(positive("learning rate")),
        "stand_in_spin.lr_milestones": each(whole(1, "steps")),
        "stand_in_spin.batch_size": whole(1, "samples per batch"),
        "stand_in_spin.seed": whole(0),
        "stand_in_spin.gap_share": number(0.0, 1.0, why="share of the real domain's frames"),
        "mocap_spin.batch_size": whole(1, "samples per batch"),
        "mocap_spin.synthetic_fraction": number(0.0, 1.0),
        "mocap_spin.real_workers": whole(0, "0: read images in the training process"),
        "mocap_spin.fit_threshold": positive("pixels"),
        "mocap_spin.lr": positive("learning rate"),
        "mocap_spin.lr_milestones": each(whole(1, "steps")),
        "mocap_spin.lr_gamma": positive(),
        "mocap_spin.checkpoint_every": whole(1, "steps"),
        "mocap_spin.log_every": whole(1, "steps"),
        "mocap_spin.picture_every": whole(1, "steps"),
        "mocap_spin.feature_alignment.temperature": positive(),
        "posebert.keypoint_noise_std": number(0.0, why="metres"),
        "posebert.window": whole(MIN_WINDOW, "frames: a sequence model needs a sequence"),
        "posebert.dim": whole(1),
        "posebert.depth": whole(1),
        "posebert.heads": whole(1),
        "posebert.regressor_iterations": whole(1),
        "posebert.fps": positive("frames per second"),
        "posebert.noise_std": number(0.0, why="radians"),
        "posebert.random_pose": number(0.0, 1.0),
        "posebert.random_joint": number(0.0, 1.0),
        "posebert.iterations": whole(1, "steps"),
        "posebert.batch_size": whole(1, "windows per batch"),
        "posebert.lr": positive("learning rate"),
        "posebert.rotation_weight": number(0.0),
        "posebert.joints_weight": number(0.0),
        "posebert.accel_weight": number(0.0),
        "posebert.checkpoint_every": whole(1, "steps"),
        "posebert.log_every": whole(1, "steps"),
        "study.subset_lr": mapping(TRAINABLE, positive("learning rate")),
        "eval.batch_size": whole(1),
        "eval.workers": whole(0),
    }
    table.update({key: one_of(names) for key, names in CHOICES.items()})
    table.update({key: some_of(names, at_least_one=key in AT_LEAST_ONE) for key, names in LIST_CHOICES.items()})
    for key in ("image_samples", "video_sequences", "video_frames", "denoising_sequences", "denoising_frames",
                "generalisation_windows"):
        table[f"eval.{key}"] = whole(1)
    for key in ("l2", "cosine", "contrastive"):
        table[f"mocap_spin.feature_alignment.{key}"] = number(0.0, why="0 turns the term off")
    for key in SpinLossWeights.__dataclass_fields__:
        table[f"mocap_spin.loss.{key}"] = table[f"stand_in_spin.loss.{key}"] = number(0.0)
    return table


def _plain(value: Any) -> Any:
    return OmegaConf.to_container(value) if isinstance(value, (DictConfig, ListConfig)) else value


def problems(cfg: DictConfig) -> list[str]:
    """One line per bad value in ``cfg``: ``key=value: expected ...``; keys ``cfg`` lacks are skipped."""
    lines = []
    for key, check in rules().items():
        if OmegaConf.select(cfg, key, default=_ABSENT) is _ABSENT:
            continue
        value = _plain(OmegaConf.select(cfg, key))
        problem = check(value)
        if problem:
            lines.append(f"{key}={value}: expected {problem}")
    window = OmegaConf.select(cfg, "posebert.window")
    masked = OmegaConf.select(cfg, "posebert.masked_frames")
    if isinstance(window, int) and window >= MIN_WINDOW and masked is not None and not (0 <= masked <= window):
        lines.append(f"posebert.masked_frames={masked}: expected 0 to posebert.window ({window}) "
                     "masked frames per window")
    return lines



def validate(cfg: DictConfig, source: str = "configuration") -> None:
    """Raise ``ConfigValueError`` listing every bad value, one line each."""
    lines = problems(cfg)
    if len(lines) == 1:
        raise ConfigValueError(lines[0])
    if lines:
        raise ConfigValueError(f"{len(lines)} settings of the {source} are out of range:\n"
                               + "\n".join(f"  {line}" for line in lines))
