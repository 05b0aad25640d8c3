"""The safetensors container: a strict reader, an encoder and atomic writes.

A safetensors file is::

    [8 bytes: header length N, unsigned little-endian]
    [N bytes: UTF-8 JSON header {"name": {"dtype", "shape", "data_offsets"}, "__metadata__": {}}]
    [the tensors' bytes, back to back]

Nothing in a file is ever executed: the header is parsed as strict JSON (no NaN, no duplicate
keys) and every length, shape and offset is checked against the file's real size before a
single array is read. Every problem raises :class:`ModelFileError` naming the file and what
is wrong with it. The reader needs NumPy alone; writing uses the ``safetensors`` package.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

#: safetensors' own limit on the header (100 MB); anything larger is refused unread
MAX_HEADER_BYTES = 100_000_000
#: more dimensions than any parameter or optimiser state of ours has
MAX_NDIM = 8
DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8")}
DTYPE_CODES = {np.dtype("float32"): "F32", np.dtype("float64"): "F64"}


class ModelFileError(ValueError):
    """A model or checkpoint file that cannot be read: damaged, truncated, hostile or not ours.

    Attributes
    ----------
    path : str
        The file.
    problem : str
        What is wrong with it.
    """

    def __init__(self, path: Any, problem: str) -> None:
        self.path = os.fspath(path) if isinstance(path, (str, os.PathLike)) else str(path)
        self.problem = problem
        super().__init__(f"cannot load model file {self.path!r}: {problem}")


# -- strict JSON ---------------------------------------------------------------------------
def _pairs_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # "1e999" parses to inf
        raise ValueError(f"number {text} is out of range")
    return value


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(text: str, what: str, path: Any) -> Any:
    """Parse untrusted JSON strictly: no NaN/Infinity, no duplicate keys, bounded depth."""
    try:
        return json.loads(text, object_pairs_hook=_pairs_without_duplicates,
                          parse_float=_finite_float, parse_constant=_no_constants)
    except RecursionError:  # "[[[[..." nested deeper than the interpreter's stack
        raise ModelFileError(path, f"{what} is nested too deeply to be valid") from None
    except ValueError as exc:  # JSONDecodeError, duplicate keys, ints with too many digits
        raise ModelFileError(path, f"{what} is not valid JSON ({exc})") from None


def dump_json(value: Any, what: str) -> str:
    """JSON text for a metadata value; a TypeError/ValueError names what could not be stored."""
    try:
        return json.dumps(value, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{what} must be JSON-safe (str, int, finite float, bool, None, "
                        f"lists and dicts of those); {exc}") from None


# -- reading -------------------------------------------------------------------------------
def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_tensor_entry(path: Any, name: str, info: Any) -> tuple[np.dtype, tuple, int, int]:
    if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
        raise ModelFileError(path, f"header entry for tensor {name!r} must be an object with "
                                   f"keys dtype, shape, data_offsets; got {info!r:.200}")
    code = info["dtype"]
    if not isinstance(code, str) or code not in DTYPES:
        raise ModelFileError(path, f"tensor {name!r} has dtype {code!r:.40}; backprop files "
                                   f"hold only {', '.join(DTYPES)}")
    shape = info["shape"]
    if (not isinstance(shape, list) or len(shape) > MAX_NDIM
            or not all(_is_int(d) and d >= 0 for d in shape)):
        raise ModelFileError(path, f"tensor {name!r} has shape {shape!r:.200}; expected a list "
                                   f"of at most {MAX_NDIM} non-negative integers")
    offsets = info["data_offsets"]
    if (not isinstance(offsets, list) or len(offsets) != 2
            or not all(_is_int(o) for o in offsets) or not 0 <= offsets[0] <= offsets[1]):
        raise ModelFileError(path, f"tensor {name!r} has data_offsets {offsets!r:.200}; "
                                   "expected [begin, end] with 0 <= begin <= end")
    dtype = DTYPES[code]
    # Python integers: no overflow however absurd the declared shape.
    nbytes = math.prod(shape) * dtype.itemsize
    begin, end = offsets
    if end - begin != nbytes:
        raise ModelFileError(path, f"tensor {name!r} of shape {shape} and dtype {code} needs "
                                   f"{nbytes} bytes but its offsets span {end - begin}")
    return dtype, tuple(shape), begin, end


def _check_header_length(n: int, size: int, path: Any) -> None:
    if not 2 <= n <= MAX_HEADER_BYTES:
        raise ModelFileError(path, f"header length {n} is outside the valid range "
                                   f"2..{MAX_HEADER_BYTES} (not a safetensors file?)")
    if 8 + n > size:
        raise ModelFileError(path, f"the header declares {n} bytes but only {size - 8} follow "
                                   "(truncated file?)")


def parse_safetensors(data: bytes, path: Any) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Validate the bytes of a safetensors file and return (tensors, metadata).

    Returns
    -------
    tensors : dict of str → ndarray
        Native-endian, writable copies.
    metadata : dict of str → str
    """
    size = len(data)
    if size == 0:
        raise ModelFileError(path, "the file is empty")
    if size < 8:
        raise ModelFileError(path, f"the file is {size} bytes long; a safetensors file "
                                   "starts with an 8-byte header length")
    n = int.from_bytes(data[:8], "little")
    _check_header_length(n, size, path)
    raw = bytes(data[8 : 8 + n])
    if raw[:1] != b"{":
        raise ModelFileError(path, "the header does not start with '{' (not a safetensors "
                                   "file?)")
    try:
        text = raw.decode("utf-8")  # explicitly: json.loads would guess UTF-16/32 from bytes
    except UnicodeDecodeError as exc:
        raise ModelFileError(path, f"the header is not UTF-8 text ({exc.reason} at byte "
                                   f"{exc.start})") from None
    header = parse_json(text, "the header", path)
    if not isinstance(header, dict):
        raise ModelFileError(path, f"the header must be a JSON object; got "
                                   f"{type(header).__name__}")
    metadata = header.pop("__metadata__", None)
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ModelFileError(path, "__metadata__ must map strings to strings")

    body = memoryview(data)[8 + n :]
    entries = []
    for name, info in header.items():
        entry = _check_tensor_entry(path, name, info)
        if entry[3] > len(body):
            raise ModelFileError(path, f"tensor {name!r} ends at byte {entry[3]}, past the end "
                                       f"of the {len(body)}-byte data section (truncated file?)")
        entries.append((name, *entry))
    # The tensors must tile the data section exactly: no gaps, no overlaps, nothing after.
    expected = 0
    for name, _, _, begin, end in sorted(entries, key=lambda e: (e[3], e[4])):
        if begin != expected:
            raise ModelFileError(path, f"tensor {name!r} starts at byte {begin} of the data "
                                       f"section; expected {expected} (gap or overlap)")
        expected = end
    if expected != len(body):
        what = "truncated file?" if expected > len(body) else "trailing bytes"
        raise ModelFileError(path, f"the tensors need {expected} data bytes but the file holds "
                                   f"{len(body)} after the header ({what})")
    tensors = {}
    for name, dtype, shape, begin, end in entries:
        flat = np.frombuffer(body[begin:end], dtype=dtype)
        tensors[name] = flat.astype(dtype.newbyteorder("="), copy=True).reshape(shape)
    return tensors, metadata


def read_safetensors(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read and validate a safetensors file; see :func:`parse_safetensors`."""
    try:
        with open(path, "rb") as f:
            data = f.read(8)
            if len(data) == 8:
                # Check the declared header length against the real size before reading on,
                # so a hostile length never makes us read (or allocate) more than the file.
                size = os.fstat(f.fileno()).st_size
                _check_header_length(int.from_bytes(data, "little"), size, path)
                data += f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"no model file at {os.fspath(path)!r}") from None
    except IsADirectoryError:
        raise ModelFileError(path, "this is a directory, not a model file") from None
    return parse_safetensors(data, path)


# -- writing -------------------------------------------------------------------------------
def encode_safetensors(tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> bytes:
    """The bytes of a safetensors file (written by the ``safetensors`` package)."""
    try:
        from safetensors.numpy import save as _save
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("saving models needs safetensors: pip install 'backprop[all]'") from exc
    arrays = {name: np.ascontiguousarray(a) for name, a in tensors.items()}
    return _save(arrays, metadata=metadata)


def _write_all(f: BinaryIO, data: bytes) -> None:
    """Write every byte (a separate step so tests can simulate a crash midway)."""
    f.write(data)


def atomic_write(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    The bytes go to a temporary file in the same directory, are flushed to disk, and the
    temporary file is renamed over ``path`` (an atomic replace on POSIX and Windows). If
    anything fails midway the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    directory = path.parent
    tmp = directory / f".{path.name}.{secrets.token_hex(6)}.tmp"
    # O_EXCL: never write through an existing file or link; mode 0o666 lets the umask decide.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            _write_all(f, data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:  # including KeyboardInterrupt: never leave the temporary behind
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)
    return path


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; not possible (nor needed) on every platform.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
