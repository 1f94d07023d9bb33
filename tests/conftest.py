import pytest
import torch


@pytest.fixture(scope="session")
def tiny_body_dir(tmp_path_factory):
    """A folder with the tiny procedural body, built once per test session."""
    from mocap_hmr.body.tiny_body import write_tiny_body

    return write_tiny_body(tmp_path_factory.mktemp("bodies") / "tiny")


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)


@pytest.fixture(scope="session")
def standin_body_dir():
    """The anny stand-in body, built into the cache ($MOCAP_HMR_CACHE) once; skipped
    where the optional package anny is not installed."""
    pytest.importorskip("anny")
    from mocap_hmr.body.standin import build_standin_body

    return build_standin_body()


@pytest.fixture(scope="module")
def tiny_corpus(tiny_body_dir, tmp_path_factory):
    """(tiny body folder, index of a 30-second procedural corpus), with $MOCAP_HMR_CACHE set to a
    fresh folder of the test module for as long as the module runs."""
    from mocap_hmr.data.default_corpus import default_motion_index

    cache = tmp_path_factory.mktemp("cache")
    patch = pytest.MonkeyPatch()
    patch.setenv("MOCAP_HMR_CACHE", str(cache))
    yield tiny_body_dir, default_motion_index(minutes=0.5, root=cache / "motion", log=lambda m: None)
    patch.undo()


@pytest.fixture(scope="module")
def tiny_body(tiny_body_dir, tmp_path_factory):
    """The tiny body as a BodyModel, with $MOCAP_HMR_CACHE set to a fresh folder of the test
    module for as long as the module runs (the embedded sets are cached there)."""
    from mocap_hmr.body import BodyModel

    patch = pytest.MonkeyPatch()
    patch.setenv("MOCAP_HMR_CACHE", str(tmp_path_factory.mktemp("cache")))
    yield BodyModel(tiny_body_dir)
    patch.undo()


@pytest.fixture(scope="session")
def jittered_posebert():
    """A small PoseBERT with every weight moved off its initial value (so it does not simply
    return its starting pose), for the smoothing and refinement tests."""
    from mocap_hmr.models.posebert import build_posebert

    model = build_posebert("paper", dim=32, depth=2, heads=2, hidden=24, max_len=8)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=gen))
    return model.eval()

