"""``save`` and ``load``: named arrays in a numpy ``.npz`` file, never pickle.

A weight file is a zip of ``.npy`` members, one per name, as ``np.savez`` writes. ``load``
reads numbers only: a file that would need pickle (``torch.save``'s, or an object array) is
refused, so loading a file from anyone never runs code.

    >>> import os, tempfile
    >>> import numpy as np
    >>> with tempfile.TemporaryDirectory() as directory:
    ...     path = os.path.join(directory, "weights.npz")
    ...     save({"layer.weight": np.eye(2, dtype=np.float32), "step": 3}, path)
    ...     state = load(path)
    >>> list(state), state["layer.weight"].dtype, state["step"]
    (['layer.weight', 'step'], dtype('float32'), array(3))
"""
import math
import numbers
import os
import secrets
import shutil
import struct
import zipfile
import zlib
from collections.abc import Mapping

import numpy as np

from autograd_core import Node

__all__ = ["save", "load", "WeightFileError"]

_NUMERIC_KINDS = "biufc"  # bool, signed and unsigned int, float, complex
_DEFLATE_MAX_RATIO = 1032  # deflate cannot expand a stream more than this


class WeightFileError(ValueError):
    """A file that ``load`` cannot read as named arrays; the message names the file and why."""


def save(obj, path) -> None:
    """Write ``obj.state_dict()`` (or ``obj``, a mapping of names to arrays, tensors or
    numbers) to ``path``, exactly that name, replacing any file there only once it is written."""
    state = obj.state_dict() if hasattr(obj, "state_dict") else obj
    if not isinstance(state, Mapping):
        raise TypeError(f"save takes a Module or a mapping of names to arrays, "
                        f"not {type(state).__name__}")
    arrays = {_checked_name(name): _checked_array(name, value) for name, value in state.items()}
    # Through a symlink to the file it names, as numpy and torch write (a bytes path too)
    path = os.path.realpath(os.fsdecode(os.fspath(path)))
    directory = os.path.dirname(path)
    # Same directory, so that os.replace is an atomic rename, not a copy across file systems;
    # a short name, so that a filename near the 255-byte limit still leaves room for it
    temp_path = os.path.join(directory, f".save.{secrets.token_hex(8)}.tmp")
    try:
        with open(temp_path, "xb") as file:
            with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
                for name, array in arrays.items():
                    # A fixed timestamp: the same weights always give the same bytes
                    info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
                    with archive.open(info, "w", force_zip64=True) as member:
                        np.lib.format.write_array(member, array, allow_pickle=False)
            file.flush()
            os.fsync(file.fileno())
        if os.path.exists(path):  # an overwrite keeps the file's permissions (a private 0600)
            shutil.copymode(path, temp_path)
        os.replace(temp_path, path)
    except BaseException:
        if os.path.exists(temp_path):
            os.remove(temp_path)
        raise


def _checked_name(name) -> str:
    if not isinstance(name, str):
        raise TypeError(f"save: names must be str, got {type(name).__name__} {name!r}")
    # zip member names end at a NUL and are stored as UTF-8, so these could not come back
    if not name or "\0" in name:
        raise ValueError(f"save: names must be non-empty without NUL characters, got {name!r}")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"save: name {name!r} is not valid unicode") from None
    return name


def _checked_array(name, value) -> np.ndarray:
    if isinstance(value, Node):
        value = value.data
    if not isinstance(value, (np.ndarray, np.generic, numbers.Number)):
        raise TypeError(f"save: {name!r} is a {type(value).__name__}; "
                        f"values must be arrays, tensors or numbers")
    array = np.asarray(value)
    if array.dtype.kind not in _NUMERIC_KINDS:
        raise TypeError(f"save: {name!r} is a {array.dtype} array; weight files hold numbers")
    return array


def load(path) -> dict:
    """The arrays saved in ``path``, by name, in the order saved.

    Raises ``WeightFileError`` for anything but a zip of numeric ``.npy`` arrays: a pickle,
    a truncated file, an object array, a header that does not fit its data.
    """
    path = os.fspath(path)
    with open(path, "rb") as file:
        try:
            archive = zipfile.ZipFile(file)
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, struct.error,
                NotImplementedError) as error:  # NotImplementedError: a "newer" zip version
            file.seek(0)
            if file.read(4) == b"PK\x03\x04":  # starts as a zip does: cut short or damaged
                raise WeightFileError(f"{path}: truncated or damaged .npz file ({error})") from None
            raise WeightFileError(f"{path}: not an .npz weight file ({error}); nn.load reads "
                                  f"only files written by nn.save or numpy.savez") from None
        archive_size = os.fstat(file.fileno()).st_size
        declared = _declared_member_count(file)
        if declared is not None and declared != len(archive.infolist()):
            archive.close()  # a damaged directory must not silently drop arrays
            raise WeightFileError(f"{path}: truncated or damaged .npz file (its directory "
                                  f"lists {len(archive.infolist())} members, its end record "
                                  f"{declared})")
        arrays = {}
        with archive:
            for info in archive.infolist():
                where = f"{path}: member {info.filename!r}"
                if not info.filename.endswith(".npy"):
                    raise WeightFileError(f"{where} is not a .npy array")
                name = info.filename[:-len(".npy")]
                if name in arrays:
                    raise WeightFileError(f"{where} appears twice")
                _check_sizes_possible(info, archive_size, where)
                try:
                    arrays[name] = _read_member(archive, info, where)
                except WeightFileError:
                    raise
                except (zipfile.BadZipFile, EOFError, OSError, ValueError, struct.error,
                        RuntimeError, zlib.error) as error:  # RuntimeError: encrypted member
                    raise WeightFileError(f"{where} is damaged: {error}") from None
    return arrays


def _declared_member_count(file) -> int | None:
    """How many members the zip's end record says it has (None if it cannot be read)."""
    size = file.seek(0, os.SEEK_END)
    file.seek(max(0, size - (65_536 + 22)))  # the end record, after a comment of at most 64 KiB
    tail = file.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return None
    count = struct.unpack("<H", tail[at + 10:at + 12])[0]
    if count != 0xFFFF:
        return count
    locator = tail.rfind(b"PK\x06\x07", 0, at)  # zip64: the count is in the zip64 end record
    if locator < 0 or locator + 16 > len(tail):
        return None
    file.seek(struct.unpack("<Q", tail[locator + 8:locator + 16])[0])
    record = file.read(56)
    if len(record) < 40 or record[:4] != b"PK\x06\x06":
        return None
    return struct.unpack("<Q", record[32:40])[0]


def _check_sizes_possible(info: zipfile.ZipInfo, archive_size: int, where: str) -> None:
    # The sizes in the zip directory are the file's own claims: checked against its real
    # length, a crafted size cannot make us allocate more than the file could hold.
    if info.compress_type == zipfile.ZIP_STORED:
        possible = info.file_size == info.compress_size <= archive_size
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        possible = (info.compress_size <= archive_size
                    and info.file_size <= _DEFLATE_MAX_RATIO * info.compress_size)
    else:
        raise WeightFileError(f"{where} uses zip compression method {info.compress_type}; "
                              f"nn.load reads stored or deflated members")
    if not possible:
        raise WeightFileError(f"{where} claims {info.file_size} bytes "
                              f"({info.compress_size} stored), more than the file can hold")


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> np.ndarray:
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(member)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(member)
        else:
            raise WeightFileError(f"{where} is .npy version {version}, which nn.load does not read")
        if dtype.hasobject:
            raise WeightFileError(f"{where} holds Python objects; loading them would need "
                                  f"pickle, which nn.load never uses")
        if dtype.kind not in _NUMERIC_KINDS:
            raise WeightFileError(f"{where} is a {dtype} array; weight files hold numbers")
        # Checked before read_array allocates the array the header declares
        data_size = math.prod(shape) * dtype.itemsize
        # numpy counts elements in int64: a dimension beyond it cannot be real, even in an
        # empty array whose size checks out
        if min(shape, default=0) < 0 or max(shape, default=0) >= 2**63 \
                or member.tell() + data_size != info.file_size:
            raise WeightFileError(
                f"{where}: its header declares shape {shape} of {dtype} ({data_size} bytes), "
                f"but it holds {info.file_size - member.tell()} bytes of data")
        member.seek(0)
        return np.lib.format.read_array(member, allow_pickle=False)
