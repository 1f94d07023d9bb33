"""The configuration's choices, declared once (``mocap_hmr.choices``) and checked once, when
the configuration loads: every choice key refuses a bad name in one line naming the key and
its names, accepts each of its names as a plain string, and the modules that keep data per
name key it by the declared names."""

import pytest
from omegaconf import OmegaConf

from mocap_hmr import choices
from mocap_hmr.config import load_config
from mocap_hmr.config_rules import ConfigValueError
from mocap_hmr.metrics import ALIGNS
from mocap_hmr.models.posebert import INPUTS, VARIANTS
from mocap_hmr.models.resnet import ARCHITECTURES
from mocap_hmr.studies.settings import load_study_config


def _load(overrides):
    study = any(o.startswith("study.") for o in overrides)
    return (load_study_config if study else load_config)(None, overrides)


@pytest.mark.parametrize("key", choices.CHOICES)
def test_a_bad_name_is_one_line_naming_the_key_and_its_names(key):
    with pytest.raises(ConfigValueError) as raised:
        _load([f"{key}=nonsense"])
    assert str(raised.value) == f"{key}=nonsense: expected one of {', '.join(choices.CHOICES[key])}"


@pytest.mark.parametrize("key", choices.LIST_CHOICES)
def test_a_bad_name_in_a_list_is_one_line_naming_the_key_and_its_names(key):
    names = choices.LIST_CHOICES[key]
    with pytest.raises(ConfigValueError) as raised:
        _load([f"{key}=[{names[0]},nonsense]"])
    message = str(raised.value)
    assert "\n" not in message and message.startswith(f"{key}=['{names[0]}', 'nonsense']: expected a list of ")
    assert message.endswith(f"{', '.join(names)}; 'nonsense' is not")


@pytest.mark.parametrize("key", ["study.subsets", "study.backgrounds", "study.bodies"])
def test_a_study_of_nothing_is_refused(key):
    with pytest.raises(ConfigValueError, match=rf"^{key}=\[\]: expected a list of at least one of "):
        _load([f"{key}=[]"])


@pytest.mark.parametrize("key", [*choices.CHOICES, *choices.LIST_CHOICES])
def test_every_name_loads_and_stays_a_plain_string(key):
    listed = key in choices.LIST_CHOICES
    for name in {**choices.CHOICES, **choices.LIST_CHOICES}[key]:
        loaded = OmegaConf.select(_load([f"{key}=[{name}]" if listed else f"{key}={name}"]), key)
        plain = OmegaConf.to_container(loaded) if listed else loaded
        assert plain == ([name] if listed else name) and type(name) is type(plain[0] if listed else plain) is str


def test_a_bad_device_names_the_pattern():
    with pytest.raises(ConfigValueError, match=r"^device=gpu: expected auto, cpu, cuda or cuda:N$"):
        _load(["device=gpu"])
    assert _load(["device=cuda:1"]).device == "cuda:1"


def test_the_data_kept_per_name_is_keyed_by_the_declared_names():
    assert tuple(ARCHITECTURES) == choices.BACKBONES
    assert tuple(VARIANTS) == choices.POSEBERT_VARIANTS
    assert tuple(INPUTS) == choices.POSEBERT_INPUTS
    assert set(choices.EVAL_ALIGNS) <= set(ALIGNS)
