"""The IDX file format of MNIST and Fashion-MNIST: read, write and check, plain or compressed."""
from __future__ import annotations

import gzip
import lzma
from pathlib import Path

import numpy as np

# Magic number: two zero bytes, a type code (0x08 = unsigned byte), then the number of dimensions.
_UBYTE = 0x08


class IdxError(ValueError):
    """An IDX file that is missing, truncated or not IDX at all; the message names the file."""


def _open(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rb")
    if path.suffix == ".xz":
        return lzma.open(path, "rb")
    return open(path, "rb")


def read_idx(path: str | Path) -> np.ndarray:
    """Read an unsigned-byte IDX file (.gz, .xz or plain) into a uint8 array, checking its size."""
    path = Path(path)
    if not path.is_file():
        raise IdxError(f"{path} is missing.")
    try:
        with _open(path) as f:
            data = f.read()
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise IdxError(f"{path} cannot be read ({exc}).") from exc
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != _UBYTE:
        raise IdxError(f"{path} is not an unsigned-byte IDX file (bad header).")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IdxError(f"{path} is truncated: its header needs {header} bytes, the file has {len(data)}.")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape))
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "too long"
        raise IdxError(f"{path} is {what}: shape {shape} needs {expected:,} bytes, the file has {len(data):,}.")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def write_idx(path: str | Path, array: np.ndarray) -> None:
    """Write a uint8 array as an IDX file, compressed by the file's suffix (.gz, .xz or none)."""
    path = Path(path)
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, _UBYTE, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    payload = header + array.tobytes()
    if path.suffix == ".xz":
        path.write_bytes(lzma.compress(payload, preset=9 | lzma.PRESET_EXTREME))
    elif path.suffix == ".gz":
        path.write_bytes(gzip.compress(payload, compresslevel=9, mtime=0))
    else:
        path.write_bytes(payload)
