"""TensorBoard event files written by hand (mocap_hmr.training.tensorboard): CRC32C, record framing,
protobuf layout, round trips, corruption and truncation; and, where tensorboard happens to be
installed, reading them with tensorboard's own EventAccumulator."""

import re
import socket
import struct

import numpy as np
import pytest

from mocap_hmr.imageio import read_image
from mocap_hmr.training import tensorboard as tb
from mocap_hmr.training.tensorboard import EventFileError, EventWriter, crc32c, masked_crc32c, read_events


def _bitwise_crc32c(data: bytes) -> int:
    """CRC-32C bit by bit, independent of the module's table."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 * (crc & 1))
    return crc ^ 0xFFFFFFFF


def _masked(data: bytes) -> int:
    crc = _bitwise_crc32c(data)
    return ((crc >> 15 | crc << 17) + 0xA282EAD8) % 2**32


def _records(path) -> list[bytes]:
    """The framed records of a file, split by their length fields only."""
    blob = path.read_bytes()
    out, pos = [], 0
    while pos < len(blob):
        (length,) = struct.unpack("<Q", blob[pos:pos + 8])
        out.append(blob[pos:pos + 16 + length])
        pos += 16 + length
    return out


@pytest.mark.parametrize("data, expected", [
    (b"", 0x00000000),
    (b"123456789", 0xE3069283),
    (bytes(32), 0x8A9136AA),             # RFC 3720 B.4
    (b"\xff" * 32, 0x62A8AB43),
    (bytes(range(32)), 0x46DD794E),
    (bytes(range(31, -1, -1)), 0x113FDB5C),
])
def test_crc32c_vectors(data, expected):
    assert crc32c(data) == expected
    assert _bitwise_crc32c(data) == expected


def test_masked_crc32c():
    for data in (b"", b"123456789", bytes(range(256)) * 3):
        assert masked_crc32c(data) == _masked(data)
    # 0xE3069283 rotated right by 15 bits is 0x2507C60D; plus 0xA282EAD8 (mod 2**32) is 0xC78AB0E5.
    assert masked_crc32c(b"123456789") == 0xC78AB0E5


def test_file_name_and_version_record(tmp_path):
    with EventWriter(tmp_path / "tb", filename_suffix=".run1") as writer:
        pass
    assert writer.path.parent == tmp_path / "tb"
    assert re.fullmatch(rf"events\.out\.tfevents\.\d{{10}}\.{re.escape(socket.gethostname())}\.run1", writer.path.name)
    (first,) = read_events(writer.path)
    assert first["file_version"] == "brain.Event:2"
    assert first["step"] == 0 and first["wall_time"] > 1e9


def test_scalar_event_byte_layout(tmp_path):
    with EventWriter(tmp_path) as writer:
        writer.add_scalar("loss", 0.5, step=7, wall_time=1.25)
    version, scalar = _records(writer.path)
    # Event{wall_time(1, fixed64) = 1.25, step(2, varint) = 7,
    #       summary(5) = Summary{value(1) = Value{tag(1) = "loss", simple_value(2, fixed32) = 0.5}}}
    value = b"\x0a\x04loss" + b"\x15" + struct.pack("<f", 0.5)
    summary = b"\x0a" + bytes([len(value)]) + value
    event = b"\x09" + struct.pack("<d", 1.25) + b"\x10\x07" + b"\x2a" + bytes([len(summary)]) + summary
    assert event == bytes.fromhex("09000000000000f43f" "1007" "2a0d" "0a0b" "0a046c6f7373" "150000003f")
    length = struct.pack("<Q", len(event))
    assert scalar == length + struct.pack("<I", _masked(length)) + event + struct.pack("<I", _masked(event))
    # The version record: Event{wall_time, step = 0, file_version(3) = "brain.Event:2"}.
    assert version[12:-4][9:] == b"\x10\x00" + b"\x1a\x0dbrain.Event:2"


def test_scalars_round_trip(tmp_path):
    with EventWriter(tmp_path) as writer:
        writer.add_scalar("train/loss", 2.0, step=0)
        writer.add_scalars({"train/loss": 1.5, "train/lr": np.float32(1e-4), "zero": 0.0}, step=10)
        writer.add_scalar("far", -3.25, step=2**40, wall_time=123.0)
        writer.add_scalar("negative step", 1.0, step=-1)
    events = read_events(writer.path)
    assert [event["step"] for event in events] == [0, 0, 10, 2**40, -1]
    assert events[1]["summary"] == [{"tag": "train/loss", "simple_value": 2.0}]
    assert events[2]["summary"] == [{"tag": "train/loss", "simple_value": 1.5},
                                    {"tag": "train/lr", "simple_value": pytest.approx(1e-4)},
                                    {"tag": "zero", "simple_value": 0.0}]
    assert events[3]["wall_time"] == 123.0 and events[3]["summary"][0]["simple_value"] == -3.25


def test_image_round_trip(tmp_path):
    image = np.random.default_rng(0).integers(0, 256, size=(5, 7, 3), dtype=np.uint8)
    with EventWriter(tmp_path / "tb") as writer:
        writer.add_image("overlay", image, step=3)
    (value,) = read_events(writer.path)[1]["summary"]
    assert value["tag"] == "overlay"
    stored = value["image"]
    assert (stored["height"], stored["width"], stored["colorspace"]) == (5, 7, 3)
    assert stored["encoded_image_string"].startswith(b"\x89PNG\r\n\x1a\n")
    png = tmp_path / "decoded.png"
    png.write_bytes(stored["encoded_image_string"])
    np.testing.assert_array_equal(read_image(png), image)


def test_add_image_rejects_wrong_layout(tmp_path):
    with EventWriter(tmp_path) as writer, pytest.raises(ValueError, match="'pic'.*uint8 \\(H, W, 3\\)"):
        writer.add_image("pic", np.zeros((3, 5, 7), np.uint8), step=0)


def test_records_reach_the_file_before_close(tmp_path):
    writer = EventWriter(tmp_path)
    writer.add_scalar("loss", 1.0, step=1)
    assert read_events(writer.path)[-1]["summary"] == [{"tag": "loss", "simple_value": 1.0}]
    writer.close()
    writer.close()
    with pytest.raises(EventFileError, match="closed"):
        writer.add_scalar("loss", 1.0, step=2)


def test_existing_file_is_never_overwritten(tmp_path, monkeypatch):
    monkeypatch.setattr(tb.time, "time", lambda: 1_700_000_000.0)
    with EventWriter(tmp_path) as writer:
        writer.add_scalar("loss", 1.0, step=1)
    with EventWriter(tmp_path) as second, EventWriter(tmp_path) as third:
        assert second.path.name == writer.path.name + ".1" and third.path.name == writer.path.name + ".2"
    assert len(read_events(writer.path)) == 2


def _two_scalar_file(tmp_path):
    with EventWriter(tmp_path) as writer:
        writer.add_scalar("a", 1.0, step=1)
        writer.add_scalar("b", 2.0, step=2)
    return writer.path


@pytest.mark.parametrize("where, what", [("data", "data CRC mismatch"), ("length", "length CRC mismatch")])
def test_corrupt_record_names_the_file(tmp_path, where, what):
    path = _two_scalar_file(tmp_path)
    blob = bytearray(path.read_bytes())
    offset = len(_records(path)[0])  # the first scalar record
    blob[offset + (20 if where == "data" else 0)] ^= 0x01
    path.write_bytes(bytes(blob))
    with pytest.raises(EventFileError, match=rf"{re.escape(str(path))}: record at byte {offset} is corrupt \({what}\)"):
        read_events(path)


@pytest.mark.parametrize("part", ["data CRC", "data", "header"])
def test_truncated_tail(tmp_path, part):
    path = _two_scalar_file(tmp_path)
    records = _records(path)
    size = len(records[-1])
    kept = {"data CRC": size - 1, "data": size - 6, "header": 5}[part]  # bytes left of the last record
    path.write_bytes(path.read_bytes()[:-size + kept])
    offset = len(records[0]) + len(records[1])
    with pytest.raises(EventFileError, match=rf"{re.escape(str(path))}: record at byte {offset} is truncated"):
        read_events(path)
    events = read_events(path, allow_truncated_tail=True)
    assert [event.get("summary") for event in events[1:]] == [[{"tag": "a", "simple_value": 1.0}]]


def test_tensorboard_reads_the_file(tmp_path):
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    image = np.random.default_rng(1).integers(0, 256, size=(4, 6, 3), dtype=np.uint8)
    with EventWriter(tmp_path) as writer:
        for step in range(3):
            writer.add_scalars({"loss": 1.0 / (step + 1), "lr": 0.1}, step=step)
        writer.add_image("overlay", image, step=2)
    accumulator = event_accumulator.EventAccumulator(str(tmp_path), size_guidance={"scalars": 0, "images": 0})
    accumulator.Reload()
    assert [(s.step, s.value) for s in accumulator.Scalars("loss")] == [(0, 1.0), (1, 0.5), (2, pytest.approx(1 / 3))]
    assert [s.value for s in accumulator.Scalars("lr")] == [pytest.approx(0.1)] * 3
    (picture,) = accumulator.Images("overlay")
    assert (picture.step, picture.height, picture.width) == (2, 4, 6)
    png = tmp_path / "decoded.png"
    png.write_bytes(picture.encoded_image_string)
    np.testing.assert_array_equal(read_image(png), image)
