"""TensorBoard event files written (and read back) without tensorboard, tensorflow or protobuf.

An event file is a sequence of TFRecords, each framing one serialized ``tensorboard.Event``
protocol buffer (tensorboard/compat/proto/event.proto, summary.proto)::

    uint64 length                     little-endian
    uint32 masked CRC32C of length    the 8 length bytes
    bytes  data[length]               the serialized Event
    uint32 masked CRC32C of data

with ``masked(crc) = (((crc >> 15) | (crc << 17)) + 0xA282EAD8) mod 2**32``. The messages used here:

    Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
    Summary { repeated Value value = 1; }
    Value   { string tag = 1; float simple_value = 2; Image image = 4; }
    Image   { int32 height = 1; int32 width = 2; int32 colorspace = 3; bytes encoded_image_string = 4; }

The first record of every file is the ``file_version: "brain.Event:2"`` event.
"""

from __future__ import annotations

import itertools
import os
import socket
import struct
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from mocap_hmr.errors import MocapHMRError
from mocap_hmr.imageio import write_png

FILE_VERSION = "brain.Event:2"
RGB_COLORSPACE = 3  # Summary.Image.colorspace: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA

_CRC_MASK_DELTA = 0xA282EAD8
_U32 = 0xFFFFFFFF
_U64 = 0xFFFFFFFFFFFFFFFF

# Protocol buffer wire types.
_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5


class EventFileError(MocapHMRError, ValueError):
    """An event file is corrupt (CRC mismatch, malformed message) or truncated."""


def _crc32c_table() -> tuple[int, ...]:
    poly = 0x82F63B78  # Castagnoli polynomial 0x1EDC6F41, bit-reversed
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC32C_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli) of ``data``, table-driven, one byte at a time (for small records)."""
    crc = _U32
    for byte in data:
        crc = _CRC32C_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ _U32


def masked_crc32c(data: bytes) -> int:
    """The TFRecord checksum: CRC-32C of ``data``, rotated right by 15 bits plus 0xA282EAD8."""
    crc = crc32c(data)
    return ((((crc >> 15) | (crc << 17)) & _U32) + _CRC_MASK_DELTA) & _U32


def frame_record(data: bytes) -> bytes:
    """One TFRecord: length, its masked CRC, ``data``, its masked CRC."""
    length = struct.pack("<Q", len(data))
    return length + struct.pack("<I", masked_crc32c(length)) + data + struct.pack("<I", masked_crc32c(data))


# --- protocol buffer encoding ------------------------------------------------------------------------------------


def _varint(value: int) -> bytes:
    """Base-128 varint; negative int64/int32 values as their 64-bit two's complement (10 bytes)."""
    value &= _U64
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _key(field: int, wire_type: int) -> bytes:
    return _varint((field << 3) | wire_type)


def _varint_field(field: int, value: int) -> bytes:
    return _key(field, _VARINT) + _varint(value)


def _bytes_field(field: int, value: bytes) -> bytes:
    return _key(field, _BYTES) + _varint(len(value)) + value


def _event(wall_time: float, step: int, field: int, payload: bytes) -> bytes:
    """Event with wall_time (1), step (2) and one length-delimited field of the ``what`` oneof."""
    return (_key(1, _FIXED64) + struct.pack("<d", wall_time) + _varint_field(2, step)
            + _bytes_field(field, payload))


def _summary(values: list[bytes]) -> bytes:
    return b"".join(_bytes_field(1, value) for value in values)


def _scalar_value(tag: str, value: float) -> bytes:
    # simple_value is a member of a oneof, so it is written even when it is 0.0.
    return _bytes_field(1, tag.encode()) + _key(2, _FIXED32) + struct.pack("<f", value)


def _image_value(tag: str, height: int, width: int, png: bytes) -> bytes:
    image = (_varint_field(1, height) + _varint_field(2, width) + _varint_field(3, RGB_COLORSPACE)
             + _bytes_field(4, png))
    return _bytes_field(1, tag.encode()) + _bytes_field(4, image)


def _encode_png(image: np.ndarray) -> bytes:
    """uint8 (H, W, 3) RGB -> PNG bytes (``mocap_hmr.imageio`` writes files only, so via a temporary file)."""
    with tempfile.TemporaryDirectory(prefix="mocap_hmr_tb_") as tmp:
        return write_png(Path(tmp) / "image.png", image).read_bytes()


# --- writer -------------------------------------------------------------------------------------------------------


class EventWriter:
    """Appends events to a new ``events.out.tfevents.<seconds>.<hostname><suffix>`` file in ``log_dir``
    (``.1``, ``.2`` ... appended when a writer started in the same second; a file is never reused).

    Every ``add_*`` call writes one whole record and hands it to the operating system, so a crash of
    the process loses nothing that was added; ``flush()`` (and ``close()``) also fsync, so a crash of
    the machine loses nothing written before the last flush. Use as a context manager or call ``close()``.
    """

    def __init__(self, log_dir: str | os.PathLike, filename_suffix: str = ""):
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        name = f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}{filename_suffix}"
        for attempt in itertools.count():
            self.path = self.log_dir / (f"{name}.{attempt}" if attempt else name)
            try:
                self._file = open(self.path, "xb")  # kept open, append-only, until close()
                break
            except FileExistsError:
                continue
        self._write(_event(time.time(), 0, 3, FILE_VERSION.encode()))
        self.flush()

    def _write(self, event: bytes) -> None:
        if self._file.closed:
            raise EventFileError(f"{self.path}: the EventWriter is closed")
        self._file.write(frame_record(event))
        self._file.flush()

    def add_scalar(self, tag: str, value: float, step: int, wall_time: float | None = None) -> None:
        """One scalar; ``value`` is anything ``float()`` accepts (Python or NumPy number, 0-d tensor)."""
        self.add_scalars({tag: value}, step, wall_time)

    def add_scalars(self, scalars: dict[str, float], step: int, wall_time: float | None = None) -> None:
        """Several scalars of the same step, as one event (tag -> value, as in ``add_scalar``)."""
        values = [_scalar_value(tag, float(value)) for tag, value in scalars.items()]
        self._write(_event(time.time() if wall_time is None else wall_time, int(step), 5, _summary(values)))

    def add_image(self, tag: str, image: np.ndarray, step: int, wall_time: float | None = None) -> None:
        """One image: uint8 (H, W, 3) RGB, stored PNG-encoded."""
        image = np.asarray(image)
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
            raise ValueError(f"add_image({tag!r}): expected uint8 (H, W, 3), got {image.dtype} {image.shape}")
        value = _image_value(tag, image.shape[0], image.shape[1], _encode_png(image))
        self._write(_event(time.time() if wall_time is None else wall_time, int(step), 5, _summary([value])))

    def flush(self) -> None:
        """Push everything written so far to the disk (fsync)."""
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        """Flush and close the file; closing twice is harmless."""
        if not self._file.closed:
            self.flush()
            self._file.close()

    def __enter__(self) -> EventWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


# --- reader -------------------------------------------------------------------------------------------------------


def _parse(data: bytes) -> list[tuple[int, int, Any]]:
    """Protocol buffer message -> [(field, wire_type, value)]: int for varint, bytes for fixed32/64 and
    length-delimited fields. Raises ValueError on malformed input."""
    fields = []
    pos = 0

    def varint() -> int:
        nonlocal pos
        result = shift = 0
        while True:
            if pos >= len(data) or shift > 63:
                raise ValueError("malformed varint")
            byte = data[pos]
            pos += 1
            result |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return result

    def take(n: int) -> bytes:
        nonlocal pos
        if pos + n > len(data):
            raise ValueError("field runs past the end of the message")
        pos += n
        return data[pos - n:pos]

    while pos < len(data):
        key = varint()
        field, wire_type = key >> 3, key & 7
        if wire_type == _VARINT:
            fields.append((field, wire_type, varint()))
        elif wire_type == _FIXED64:
            fields.append((field, wire_type, take(8)))
        elif wire_type == _BYTES:
            fields.append((field, wire_type, take(varint())))
        elif wire_type == _FIXED32:
            fields.append((field, wire_type, take(4)))
        else:
            raise ValueError(f"unsupported wire type {wire_type} (field {field})")
    return fields


def _signed64(value: int) -> int:
    return value - (1 << 64) if value >> 63 else value


def _decode_value(data: bytes) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for field, wire_type, raw in _parse(data):
        if field == 1 and wire_type == _BYTES:
            value["tag"] = raw.decode()
        elif field == 2 and wire_type == _FIXED32:
            value["simple_value"] = struct.unpack("<f", raw)[0]
        elif field == 4 and wire_type == _BYTES:
            image: dict[str, Any] = {"height": 0, "width": 0, "colorspace": 0, "encoded_image_string": b""}
            names = {1: "height", 2: "width", 3: "colorspace", 4: "encoded_image_string"}
            for sub_field, _, sub_raw in _parse(raw):
                if sub_field in names:
                    image[names[sub_field]] = sub_raw
            value["image"] = image
    return value


def _decode_event(data: bytes) -> dict[str, Any]:
    event: dict[str, Any] = {"wall_time": 0.0, "step": 0}
    for field, wire_type, raw in _parse(data):
        if field == 1 and wire_type == _FIXED64:
            event["wall_time"] = struct.unpack("<d", raw)[0]
        elif field == 2 and wire_type == _VARINT:
            event["step"] = _signed64(raw)
        elif field == 3 and wire_type == _BYTES:
            event["file_version"] = raw.decode()
        elif field == 5 and wire_type == _BYTES:
            event["summary"] = [_decode_value(value) for f, w, value in _parse(raw) if f == 1 and w == _BYTES]
    return event


def read_events(path: str | os.PathLike, allow_truncated_tail: bool = False) -> list[dict[str, Any]]:
    """Decode an event file, checking every CRC.

    Each event is ``{"wall_time": float, "step": int}`` plus ``"file_version": str`` or ``"summary"``: a list
    of values ``{"tag": str, "simple_value": float}`` or ``{"tag": str, "image": {"height", "width",
    "colorspace", "encoded_image_string": PNG bytes}}``. Fields and values of other kinds (graphs, tensors,
    histograms, metadata...) are skipped.

    A CRC mismatch or an undecodable message raises EventFileError naming the file and the record's offset.
    So does a final record cut short (a crash while it was being written), unless ``allow_truncated_tail``:
    then that partial record, and only it, is dropped and the complete records before it are returned.
    """
    path = Path(path)
    blob = path.read_bytes()
    events = []
    pos = 0
    while pos < len(blob):
        if len(blob) - pos < 12:
            end = pos + 12  # not even a whole header
        else:
            length_bytes = blob[pos:pos + 8]
            if masked_crc32c(length_bytes) != struct.unpack("<I", blob[pos + 8:pos + 12])[0]:
                raise EventFileError(f"{path}: record at byte {pos} is corrupt (length CRC mismatch)")
            end = pos + 12 + struct.unpack("<Q", length_bytes)[0] + 4
        if end > len(blob):
            if allow_truncated_tail:
                break
            whole = "12-byte header" if len(blob) - pos < 12 else f"{end - pos} bytes"
            raise EventFileError(f"{path}: record at byte {pos} is truncated: {len(blob) - pos} bytes of its {whole} "
                                 "are there (was the writer killed while writing it?)")
        data = blob[pos + 12:end - 4]
        if masked_crc32c(data) != struct.unpack("<I", blob[end - 4:end])[0]:
            raise EventFileError(f"{path}: record at byte {pos} is corrupt (data CRC mismatch)")
        try:
            events.append(_decode_event(data))
        except ValueError as exc:  # UnicodeDecodeError included
            raise EventFileError(f"{path}: record at byte {pos} is not a valid Event message ({exc})") from exc
        pos = end
    return events
