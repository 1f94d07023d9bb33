"""``mocap-hmr`` console script: one subcommand per job.

Each subcommand is a function ``(args) -> None`` registered with ``_command``; errors this
project raises on bad input (``MocapHMRError``) are printed as one line, exit status 2, and so
is an argument out of its range (the checks of ``config_rules``) or not one of its choices.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from mocap_hmr import config_rules as rules
from mocap_hmr.config import OneLineParser
from mocap_hmr.errors import MocapHMRError

_COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable]] = {}


def _command(name: str, help_text: str, add_arguments: Callable[[argparse.ArgumentParser], None]):
    def register(func):
        _COMMANDS[name] = (help_text, add_arguments, func)
        return func
    return register


def _checked(convert: Callable, check: rules.Check) -> Callable[[str], object]:
    """An argparse ``type``: ``convert`` the text, then ``check`` the value."""
    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            kind = {"int": "whole number", "float": "number"}.get(convert.__name__, convert.__name__)
            raise argparse.ArgumentTypeError(f"{text}: expected a {kind}") from None
        problem = check(value)
        if problem:
            raise argparse.ArgumentTypeError(f"{text}: expected {problem}")
        return value
    return parse


FPS = _checked(float, rules.positive("frames per second"))


def _device(text: str) -> str:
    problem = rules.device(text)
    if problem:
        raise argparse.ArgumentTypeError(f"{text}: expected {problem}")
    return text


def _convert_smpl_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("src", help="SMPL model file (.pkl as distributed, chumpy not needed)")
    p.add_argument("dst", help="output .npz")


@_command("convert-smpl", "convert an SMPL .pkl (chumpy or not) to .npz", _convert_smpl_args)
def _convert_smpl(args: argparse.Namespace) -> None:
    from mocap_hmr.body import convert_smpl

    print(f"wrote {convert_smpl(args.src, args.dst)}")


def _build_body_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", help="output folder (default: $MOCAP_HMR_CACHE/standin_body)")
    p.add_argument("--tiny", action="store_true",
                   help="the tiny procedural body (a few hundred vertices) of the unit tests")
    p.add_argument("--preview", metavar="PNG",
                   help="also save front and side views in rest pose and two SMPL poses")
    p.add_argument("--force", action="store_true", help="rebuild even if a current build is there")


@_command("build-body", "build the free stand-in body (from anny) in SMPL's format",
          _build_body_args)
def _build_body(args: argparse.Namespace) -> None:
    from mocap_hmr.body.standin import build_standin_body
    from mocap_hmr.body.tiny_body import write_tiny_body

    if args.tiny:
        if not args.out:
            raise MocapHMRError("build-body --tiny needs --out DIR")
        out = write_tiny_body(args.out)
    else:
        out = build_standin_body(args.out, force=args.force)
    print(f"body model in {out}")
    if args.preview:
        from mocap_hmr.vis.grids import save_body_preview

        print(f"preview in {save_body_preview(out, args.preview)}")


def _preset_args(p: argparse.ArgumentParser, overrides_help: str) -> None:
    p.add_argument("--config", help="YAML preset (default: configs/default.yaml, the embedded default)")
    p.add_argument("overrides", nargs="*", help=overrides_help)


def _preset(args: argparse.Namespace, load):
    """The configuration ``load(file, overrides)`` reads from --config (else the default preset)."""
    from mocap_hmr.config import DEFAULT_CONFIG

    if args.config is None and not DEFAULT_CONFIG.is_file():
        raise MocapHMRError(f"no --config given and the default preset {DEFAULT_CONFIG} is not there "
                            "(a non-editable install): pass --config FILE")
    return load(args.config or DEFAULT_CONFIG, args.overrides)


def _build_spin_args(p: argparse.ArgumentParser) -> None:
    _preset_args(p, "key=value: stand_in_spin.*, render.image_size, mocap_spin.backbone, device ...")


@_command("build-spin", "train the stand-in SPIN (the embedded default's starting model) into the cache",
          _build_spin_args)
def _build_spin(args: argparse.Namespace) -> None:
    from mocap_hmr.body import BodyModel
    from mocap_hmr.body.standin import resolve_body_model
    from mocap_hmr.config import load_config
    from mocap_hmr.training.distributed import resolve_device
    from mocap_hmr.training.stand_in_spin import stand_in_spin

    cfg = _preset(args, load_config)
    device = resolve_device(cfg.device)
    body = BodyModel(resolve_body_model(cfg.body.model_path)).to(device)
    print(f"stand-in SPIN in {stand_in_spin(cfg, body, device)}")


def _index_amass_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("root", help="folder of AMASS .npz files (searched recursively)")
    p.add_argument("--out", required=True, help="index file to write (.npz)")
    p.add_argument("--fps", type=FPS, default=30.0, help="frame rate of the index (default 30)")
    p.add_argument("--skip-bad", action="store_true", help="report malformed files and go on")


@_command("index-amass", "index a folder of AMASS files into one contiguous motion corpus",
          _index_amass_args)
def _index_amass(args: argparse.Namespace) -> None:
    from mocap_hmr.data.motion_index import build_index

    report = build_index(args.root, args.out, fps=args.fps, skip_bad=args.skip_bad)
    for problem in report.bad:
        print(f"skipped: {problem}")
    for folder in report.repeated_folders:
        print(f"skipped linked folder {folder}")
    hours = report.frames / args.fps / 3600
    print(f"{args.out}: {report.sequences} sequences, {report.frames} frames ({hours:.2f} h at {args.fps:g} fps); "
          f"files read {report.read}, reused {report.reused}, removed {report.removed}, "
          f"not motion {report.not_motion}, bad {len(report.bad)}, linked folders walked already "
          f"{len(report.repeated_folders)}")


def _synth_motion_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="output folder (AMASS-format .npz files per subject)")
    p.add_argument("--minutes", type=_checked(float, rules.positive("minutes")), default=10.0,
                   help="total duration (default 10)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--fps", type=FPS, default=120.0, help="frame rate of the files (default 120)")
    p.add_argument("--preview", metavar="PNG", help="also draw a few frames of a few sequences as skeletons")


@_command("synth-motion", "write procedural (not captured) human motion as AMASS files", _synth_motion_args)
def _synth_motion(args: argparse.Namespace) -> None:
    from mocap_hmr.data.procedural import synthesize_motion

    synthesize_motion(args.out, minutes=args.minutes, seed=args.seed, fps=args.fps)
    if args.preview:
        from mocap_hmr.vis.skeletons import save_motion_preview

        print(f"preview in {save_motion_preview(args.out, args.preview, n_sequences=10, n_frames=7)}")


def _render_preview_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="PNG to write")
    from mocap_hmr.choices import BACKENDS

    p.add_argument("--size", type=_checked(int, rules.whole(rules.MIN_IMAGE_SIZE, "pixels")), default=160,
                   help="crop size in pixels (default 160)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--backend", default="auto", choices=BACKENDS, help="rasterizer: auto, torch or pytorch3d")
    p.add_argument("--device", type=_device, default="cuda" if _cuda() else "cpu")
    p.add_argument("--body", help="SMPL folder or file (default: $SMPL_DIR, else the stand-in body)")
    p.add_argument("--motion-index", help="motion index (default: the procedural corpus)")
    p.add_argument("--textures", help="folder of UV textures (default: skin textures + procedural clothes)")
    p.add_argument("--backgrounds", help="folder of background photographs (default: procedural)")


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


@_command("render-preview", "render one pose under many cameras and a row of training crops",
          _render_preview_args)
def _render_preview(args: argparse.Namespace) -> None:
    from mocap_hmr.vis.grids import save_render_preview
    from renderers.build import build_renderer

    renderer = build_renderer(args.body, args.motion_index, image_size=args.size, backend=args.backend,
                              device=args.device, textures=args.textures, backgrounds=args.backgrounds)
    print(f"preview in {save_render_preview(renderer, args.out, seed=args.seed)}")


def _smooth_args(p: argparse.ArgumentParser) -> None:
    from mocap_hmr.smoothers import METHODS

    p.add_argument("src", help="per-frame predictions: .npz, .pkl, .pt or .npy (4D-Humans/PHALP, WHAM, GVHMR, TRAM, "
                               "VIBE outputs; pose, global_orient+body_pose, per-track dictionaries)")
    p.add_argument("dst", help="where to write the smoothed predictions, in the same layout")
    p.add_argument("--track", help="refine only this person (its track id); the others are written unchanged")
    p.add_argument("--method", choices=METHODS, default="posebert",
                   help="posebert (needs --checkpoint) or a plain filter: one-euro, savgol (Savitzky-Golay), "
                        "average (moving average); filters use mocap_hmr.filters.DEFAULTS")
    p.add_argument("--checkpoint", help="PoseBERT checkpoint (ours or naver/posebert's release); --method posebert")
    p.add_argument("--mode", choices=("offline", "online"), default="offline",
                   help="offline: centred windows; online: causal windows for streaming")
    p.add_argument("--fps", type=FPS, default=30.0, help="frame rate of the predictions (the OneEuro filter's "
                                                           "cut-offs are in Hz)")
    p.add_argument("--window", type=_checked(int, rules.whole(rules.MIN_WINDOW, "frames")),
                   help="posebert: frames per window (default: the model's, at most 64)")
    p.add_argument("--stride", type=_checked(int, rules.whole(1, "frames")),
                   help="posebert offline: frames between windows (default: a quarter window; 1 = one window per "
                        "frame, as naver/posebert's demo)")
    p.add_argument("--device", type=_device, default="cuda" if _cuda() else "cpu")
    p.add_argument("--plot", metavar="PNG", help="also plot the first person's left-knee angle over time, "
                                                  "before (red) and after (blue)")
    p.add_argument("--video", metavar="GIF|MP4", help="also render the first person (or --track) before and after, "
                                                      "side by side on the body, with the jitter measures (.gif: "
                                                      "Pillow; .mp4: imageio-ffmpeg)")
    p.add_argument("--body", help="--video: SMPL folder or file (default: $SMPL_DIR, else the stand-in body)")
    p.add_argument("--video-size", type=_checked(int, rules.whole(64, "pixels")), default=256,
                   help="--video: pixels per half (default 256)")


@_command("smooth", "smooth a per-frame pose sequence with PoseBERT or a plain filter (fills missing frames, "
                    "removes jitter)", _smooth_args)
def _smooth(args: argparse.Namespace) -> None:
    from mocap_hmr.models.posebert import load_posebert
    from mocap_hmr.smoothers import make_smoother
    from mocap_hmr.smoothing import smooth_file

    if args.method == "posebert" and not args.checkpoint:
        raise MocapHMRError("--method posebert needs --checkpoint (a PoseBERT checkpoint); the filters "
                            "(--method one-euro | savgol | average) need none")
    if args.method != "posebert" and (args.checkpoint or args.window or args.stride):
        raise MocapHMRError(f"--checkpoint, --window and --stride are PoseBERT's; --method {args.method} "
                            "takes none of them")
    model = load_posebert(args.checkpoint, device=args.device) if args.method == "posebert" else None
    smoother = make_smoother(args.method, model, mode=args.mode, fps=args.fps, window=args.window,
                             stride=args.stride)
    report = smooth_file(args.src, args.dst, smoother, track=args.track)
    print(report.summary())
    print(f"wrote {args.dst}")
    if args.video:
        from mocap_hmr.body import BodyModel
        from mocap_hmr.body.standin import resolve_body_model
        from mocap_hmr.imageio import write_video
        from mocap_hmr.smoothing import read_people
        from mocap_hmr.vis.video import side_by_side_frames

        track = report.tracks[0]
        before, after = (read_people(path, track.track or None)[1].people[0] for path in (args.src, args.dst))
        first = next(iter(before.rotations))
        measure = "n/a" if track.accel_before is None else f"{track.accel_before:.4f} → {track.accel_after:.4f}"
        frames = side_by_side_frames(BodyModel(resolve_body_model(args.body)), before.rotations[first],
                                     after.rotations[first], ("input", f"{smoother.label} ({smoother.mode})"),
                                     f"rotation acceleration {measure} per frame²", size=args.video_size)
        print(f"video in {write_video(args.video, frames, args.fps)}")
    if args.plot:
        import numpy as np

        from mocap_hmr.body.joint_maps import SMPL_JOINT_NAMES
        from mocap_hmr.geometry import matrix_to_axis_angle
        from mocap_hmr.smoothing import first_person_rotations
        from mocap_hmr.vis.curves import line_plot
        from mocap_hmr.vis.figure import save_png

        knee = SMPL_JOINT_NAMES.index("left_knee")
        degrees = [np.degrees(matrix_to_axis_angle(first_person_rotations(path)[:, knee]).norm(dim=-1).numpy())
                   for path in (args.src, args.dst)]
        figure = line_plot(degrees, ["tab:red", "tab:blue"], [f"input ({args.src})", smoother.label],
                           title="first person's left knee: rotation angle", xlabel="frame", ylabel="degrees")
        print(f"plot in {save_png(figure, args.plot)}")


EXPORT_SUFFIXES = (".bvh", ".glb")


def _export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("src", help="SMPL poses: any file `mocap-hmr smooth` reads (.npz, .pkl, .pt, .npy)")
    p.add_argument("dst", help="OUT.bvh (skeleton and motion) or OUT.glb (skinned body mesh, skeleton, animation)")
    p.add_argument("--track", help="the person to export, when the file holds several")
    p.add_argument("--fps", type=FPS, default=30.0, help="frame rate of the sequence (BVH Frame Time, glTF times)")
    p.add_argument("--body", help="SMPL folder or file (default: $SMPL_DIR, else the stand-in body)")


@_command("export", "export one person's SMPL motion to BVH or binary glTF (.glb) for Blender, game engines, "
                    "three.js", _export_args)
def _export(args: argparse.Namespace) -> None:
    from pathlib import Path

    from mocap_hmr.body import BodyModel
    from mocap_hmr.body.standin import resolve_body_model
    from mocap_hmr.export import motion_from_file, write_bvh, write_glb

    suffix = Path(args.dst).suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise MocapHMRError(f"{args.dst}: export writes {' or '.join(EXPORT_SUFFIXES)} files")
    motion = motion_from_file(args.src, args.track, args.fps)
    body = BodyModel(resolve_body_model(args.body))
    out = (write_bvh if suffix == ".bvh" else write_glb)(args.dst, motion, body)
    print(f"{motion.rotations.shape[0]} frames at {args.fps:g} fps on {body.model_file} -> {out}")


def _study_args(p: argparse.ArgumentParser) -> None:
    from mocap_hmr.studies import STUDIES

    p.add_argument("name", choices=[*STUDIES, "all"], metavar="NAME",
                   help="; ".join(f"{name}: {text}" for name, (_, text) in STUDIES.items()) + "; all: each in turn")
    _preset_args(p, "key=value: any train.py key, and study.* (docs/studies.md), e.g. study.steps=50 out_dir=runs/try")


@_command("study", "run one of the paper's studies; a table and a picture into <out_dir>/studies/NAME",
          _study_args)
def _study(args: argparse.Namespace) -> None:
    from mocap_hmr.studies import STUDIES, run_study
    from mocap_hmr.studies.settings import load_study_config

    cfg = _preset(args, load_study_config)
    for name in STUDIES if args.name == "all" else [args.name]:
        out = run_study(name, cfg)
        print(out.summary)
        print(f"{out.folder}: " + ", ".join(path.name for path in out.files.values()))


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="mocap-hmr", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, add_arguments, func) in _COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_arguments(p)
        p.set_defaults(func=func)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except MocapHMRError as exc:
        print(f"mocap-hmr {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
