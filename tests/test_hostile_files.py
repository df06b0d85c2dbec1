"""Hostile weight files for ``nn.load``, beyond what ``tests/test_serialization.py`` covers.

``test_serialization.py`` already checks: a pickle file (default protocol), an object array
saved by ``np.savez``, an ``nn.save`` file cut at eight points, random bytes, a stored member
whose header claims shape (10**12,), stored zip sizes larger than the file, members that are
not ``.npy`` arrays, duplicate members, and a Hypothesis round trip of ``hnp.arrays`` values.

This module adds, every load watched for side effects (see ``no_side_effects``):

- code never runs: pickles of every protocol, a pickle or an object array (``np.save`` with
  ``allow_pickle=True``, .npy versions 1 to 3, a structured dtype with an object field) as a
  member, hostile member names on top, and a pickle glued in front of a valid file;
- damage: every prefix of files written by ``nn.save``, ``np.savez`` and
  ``np.savez_compressed``, and every single-byte corruption of them;
- headers and zip entries that claim gigantic sizes: shapes that overflow int64, negative
  dimensions, 70 dimensions, gigabyte subarray dtypes, a 2 GiB header length, a deflated
  member claiming 2 GiB, a deflate stream longer than its entry says;
- member names that are paths (``../x``, ``/etc/passwd``, ``..\\x``, ``C:\\x``), unicode,
  60,000 characters, empty, cp437: they load as keys and nothing is ever written;
- bit-for-bit round trips of arbitrary bit patterns (every NaN payload, subnormals, -0.0,
  byte orders, long double, non-contiguous layouts) and of a module's state.

"Watched" means: an audit hook (``sys.addaudithook``) records anything that would unpickle
(``pickle.find_class``), start a process, or open, create, rename or delete a file for
writing, and fails the test if there is any; the directory of the file, its parent and the
working directory must list the same before and after; ``tracemalloc``'s peak must stay
under ``PEAK_LIMIT``; and numpy's warnings are errors.
"""
from __future__ import annotations

import contextlib
import io
import os
import pickle
import struct
import sys
import threading
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, strategies as st

import nn
from autograd_core import Tensor
from nn.serialization import WeightFileError, load, save

PEAK_LIMIT = 50 * 2**20  # bytes: every hostile file here is tiny; none may make load allocate more

# ----- watching for side effects -----
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_FORBIDDEN_PREFIXES = ("pickle.", "os.system", "os.exec", "os.spawn", "os.posix_spawn",
                       "os.fork", "subprocess.", "os.remove", "os.rename", "os.mkdir",
                       "os.rmdir", "os.symlink", "os.link", "os.truncate", "os.chmod",
                       "os.chown", "os.utime", "shutil.", "socket.", "ctypes.", "webbrowser.")
_recorder: dict = {"thread": None, "events": None}
_hook_installed = False


def _audit(event, args):
    if _recorder["events"] is None or threading.get_ident() != _recorder["thread"]:
        return
    if event == "open":
        path, mode, flags = (*args, None, None, None)[:3]
        writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & _WRITE_FLAGS)
        if writes:
            _recorder["events"].append((event, args))
    elif event.startswith(_FORBIDDEN_PREFIXES):
        _recorder["events"].append((event, args))


@contextlib.contextmanager
def recording():
    """The list of forbidden events seen in this thread inside the block."""
    global _hook_installed
    if not _hook_installed:  # audit hooks cannot be removed: one, idle outside this block
        sys.addaudithook(_audit)
        _hook_installed = True
    events = []
    _recorder.update(thread=threading.get_ident(), events=events)
    try:
        yield events
    finally:
        _recorder.update(thread=None, events=None)


def _listings(directories):
    return {directory: sorted(os.listdir(directory)) for directory in directories}


@contextlib.contextmanager
def no_side_effects(folder: Path):
    """Fail if the block runs code, writes files, allocates PEAK_LIMIT or makes numpy warn."""
    directories = [folder, folder.parent, Path.cwd()]
    before = _listings(directories)
    tracing_already = tracemalloc.is_tracing()
    if not tracing_already:
        tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        with recording() as events, warnings.catch_warnings():
            warnings.simplefilter("error")
            yield
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        if not tracing_already:
            tracemalloc.stop()
    assert events == [], f"nn.load ran code or wrote files: {events}"
    assert peak < PEAK_LIMIT, f"nn.load allocated {peak:,} bytes at its peak"
    assert _listings(directories) == before


def load_safely(path: Path):
    """``nn.load(path)``, watched; the arrays, or the ``WeightFileError`` it raised."""
    with no_side_effects(path.parent):
        try:
            return load(path)
        except WeightFileError as error:
            return error


def refused(outcome, fragment: str) -> bool:
    return isinstance(outcome, WeightFileError) and fragment in str(outcome)


# ----- building files -----
class Evil:
    """Unpickling it calls open(marker, "w"): the marker file appearing means code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def npy_header(shape, descr="<f8", version=(1, 0)) -> bytes:
    buffer = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    if version == (1, 0):
        np.lib.format.write_array_header_1_0(buffer, header)
    else:
        np.lib.format.write_array_header_2_0(buffer, header)
    return buffer.getvalue()


def npy_with_pickle(array, version=None) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, version=version, allow_pickle=True)
    return buffer.getvalue()


def zip_bytes(members: dict, compression=zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def central_entry(data, number: int = 0) -> int:
    """The offset of the ``number``-th entry of the zip's central directory."""
    offset = -1
    for _ in range(number + 1):
        offset = data.index(b"PK\x01\x02", offset + 1)
    return offset


def patched(data: bytes, offset: int, fmt: str, value) -> bytes:
    data = bytearray(data)
    struct.pack_into(fmt, data, offset, value)
    return bytes(data)


def renamed(data: bytes, old: bytes, new: bytes) -> bytes:
    """The name changed in both the local header and the central directory (same length)."""
    assert len(old) == len(new) and data.count(old) == 2
    return data.replace(old, new)


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def identical(loaded, saved: dict) -> bool:
    """Same names in the same order; each array the same dtype, shape and bytes."""
    return isinstance(loaded, dict) and list(loaded) == list(saved) and all(
        loaded[name].dtype == np.asarray(array).dtype
        and loaded[name].shape == np.shape(array)
        and loaded[name].tobytes() == np.asarray(array).tobytes()
        for name, array in saved.items())


# ----- code never runs -----
def test_the_watch_sees_an_unpickling_that_writes_a_file(tmp_path):
    # The detector itself: plain pickle runs the payload, and the watch reports it
    payload = pickle.dumps(Evil(tmp_path / "marker"))
    with recording() as events:
        pickle.loads(payload)
    assert (tmp_path / "marker").exists()
    assert [event for event, _ in events] == ["pickle.find_class", "open"]


def object_record(marker):
    return np.array([(1.0, Evil(marker))], dtype=[("weight", "<f8"), ("payload", object)])


EVIL_FILES = [
    *[pytest.param(lambda m, p=protocol: pickle.dumps(Evil(m), protocol=p), "not an .npz",
                   id=f"pickle-protocol-{protocol}") for protocol in range(pickle.HIGHEST_PROTOCOL + 1)],
    pytest.param(lambda m: zip_bytes({"w.npy": pickle.dumps(Evil(m))}), "'w.npy' is damaged", id="pickle-as-member"),
    pytest.param(lambda m: zip_bytes({"w.npy": npy_with_pickle(np.array([Evil(m)]))}), "holds Python objects", id="np-save-object-array-member"),
    pytest.param(lambda m: zip_bytes({"w.npy": npy_with_pickle(np.array([Evil(m)]), (2, 0))}), "holds Python objects", id="object-array-npy-version-2"),
    pytest.param(lambda m: zip_bytes({"w.npy": npy_with_pickle(np.array([Evil(m)]), (3, 0))}), "version (3, 0)", id="object-array-npy-version-3"),
    pytest.param(lambda m: zip_bytes({"w.npy": npy_with_pickle(object_record(m))}), "holds Python objects", id="structured-dtype-with-object-field"),
    pytest.param(lambda m: zip_bytes({"w.npy": npy_with_pickle(np.array([Evil(m)]))}, zipfile.ZIP_DEFLATED), "holds Python objects", id="deflated-object-array-member"),
    pytest.param(lambda m: zip_bytes({"../../evil.npy": npy_with_pickle(np.array([Evil(m)]))}), "holds Python objects", id="object-array-under-a-path-name"),
    pytest.param(lambda m: zip_bytes({"ok.npy": npy_header((1,)) + bytes(8), "w.npy": npy_with_pickle(np.array([Evil(m)]))}), "'w.npy' holds Python objects", id="object-array-after-a-good-member"),
]


@pytest.mark.parametrize("make_file, fragment", EVIL_FILES)
def test_a_file_that_needs_unpickling_is_refused_without_running_it(tmp_path, make_file, fragment):
    marker = tmp_path / "marker"
    path = write(tmp_path, "weights.npz", make_file(marker))
    outcome = load_safely(path)
    assert refused(outcome, fragment), outcome
    assert str(path) in str(outcome)
    assert not marker.exists()


def test_a_pickle_glued_in_front_of_a_valid_file_is_never_unpickled(tmp_path):
    # zip readers find the archive from its end, so this polyglot is a valid .npz (and a
    # valid pickle): the arrays load and the pickle is never looked at
    marker = tmp_path / "marker"
    good = io.BytesIO()
    np.savez(good, w=np.arange(3.0))
    path = write(tmp_path, "polyglot.npz", pickle.dumps(Evil(marker)) + good.getvalue())
    assert identical(load_safely(path), {"w": np.arange(3.0)})
    assert not marker.exists()


# ----- damage -----
STATE = {"a": np.arange(6.0).reshape(2, 3), "b": np.array(3, np.int16)}


def saved_bytes(writer: str, folder: Path) -> bytes:
    path = folder / "saved.npz"
    if writer == "nn.save":
        save(STATE, path)
    else:
        getattr(np, writer.removeprefix("np."))(path, **STATE)
    whole = path.read_bytes()
    path.unlink()
    return whole


WRITERS = ["nn.save", "np.savez", "np.savez_compressed"]


def load_each(folder: Path, variants: dict) -> dict:
    """Each variant written to a file first, then all loaded, watched: key -> the arrays, or
    whatever ``nn.load`` raised."""
    folder.mkdir()
    paths = {key: write(folder, f"{key}.npz", data) for key, data in variants.items()}
    outcomes = {}
    with no_side_effects(folder):
        for key, path in paths.items():
            try:
                outcomes[key] = load(path)
            except Exception as error:  # noqa: BLE001 - anything but WeightFileError is wrong
                outcomes[key] = error
    return outcomes


@pytest.mark.parametrize("writer", WRITERS)
def test_every_prefix_of_a_weight_file_is_refused(tmp_path, writer):
    whole = saved_bytes(writer, tmp_path)
    outcomes = load_each(tmp_path / "cuts", {length: whole[:length] for length in range(len(whole))})
    assert identical(load(write(tmp_path, "whole.npz", whole)), STATE)
    wrong = {length: outcome for length, outcome in outcomes.items()
             if not (type(outcome) is WeightFileError and f"{length}.npz" in str(outcome))}
    assert wrong == {}


def damaged_copies(whole: bytes, region: range) -> dict:
    """Every single-byte change in ``region``: its lowest bit, its highest bit, all its bits."""
    copies = {}
    for offset in region:
        for mask in (0x01, 0x80, 0xFF):
            damaged = bytearray(whole)
            damaged[offset] ^= mask
            copies[f"{offset}^{mask:#04x}"] = bytes(damaged)
    return copies


def wrongly_loaded(folder: Path, whole: bytes, region: range) -> dict:
    """The damaged copies that neither raised WeightFileError nor loaded STATE unchanged."""
    outcomes = load_each(folder, damaged_copies(whole, region))
    return {key: outcome if isinstance(outcome, Exception) else list(outcome)
            for key, outcome in outcomes.items()
            if type(outcome) is not WeightFileError and not identical(outcome, STATE)}


@pytest.mark.parametrize("writer", WRITERS)
def test_a_damaged_member_is_refused_or_loads_unchanged(tmp_path, writer):
    # Local headers, .npy headers and data: everything before the central directory
    whole = saved_bytes(writer, tmp_path)
    assert wrongly_loaded(tmp_path / "damaged", whole, range(central_entry(whole))) == {}


def test_a_damaged_central_directory_is_refused_or_loads_unchanged(tmp_path):
    whole = saved_bytes("nn.save", tmp_path)
    region = range(central_entry(whole), len(whole))
    assert wrongly_loaded(tmp_path / "damaged", whole, region) == {}


def test_an_entry_needing_a_newer_zip_version_is_a_weight_file_error(tmp_path):
    data = zip_bytes({"w.npy": npy_header((1,)) + bytes(8)})
    data = patched(data, central_entry(data) + 6, "<H", 255)  # version needed to extract
    outcome = load_safely(write(tmp_path, "new.npz", data))
    assert refused(outcome, "zip file version")


def test_a_central_directory_that_hides_a_member_is_refused(tmp_path):
    good = npy_header((1,)) + bytes(8)
    data = zip_bytes({"a.npy": good, "b.npy": good})
    data = patched(data, central_entry(data) + 32, "<H", 200)  # a's comment swallows b's entry
    outcome = load_safely(write(tmp_path, "hidden.npz", data))
    assert isinstance(outcome, WeightFileError) or list(outcome) == ["a", "b"], outcome


# ----- gigantic claims -----
def deflated_member_claiming(size: int) -> bytes:
    data = zip_bytes({"w.npy": npy_header((2**27,)) + bytes(16)}, zipfile.ZIP_DEFLATED)
    return patched(data, central_entry(data) + 24, "<I", size)  # uncompressed size


def deflate_stream_longer_than_its_entry() -> bytes:
    # The entry says header + 8 bytes; the deflate stream holds a mebibyte more
    small = npy_header((1,)) + bytes(8)
    data = zip_bytes({"w.npy": small + bytes(2**20)}, zipfile.ZIP_DEFLATED)
    return patched(data, central_entry(data) + 24, "<I", len(small))


GIGANTIC = [
    pytest.param(npy_header((2**40, 2**40)) + bytes(8), "its header declares shape (1099511627776, 1099511627776)", id="shape-overflowing-int64"),
    pytest.param(npy_header((2**63,)) + bytes(8), "its header declares shape (9223372036854775808,)", id="dimension-of-2**63"),
    pytest.param(npy_header((-1,)) + bytes(8), "its header declares shape (-1,)", id="negative-dimension"),
    pytest.param(npy_header((-2, -4)) + bytes(64), "its header declares shape (-2, -4)", id="two-negative-dimensions-positive-product"),
    pytest.param(npy_header((0, 2**62)), "is damaged", id="empty-with-a-huge-dimension"),
    pytest.param(npy_header((0, 2**63)), "header declares shape", id="empty-with-a-dimension-of-2**63"),
    pytest.param(npy_header((1,) * 70) + bytes(8), "is damaged", id="seventy-dimensions"),
    pytest.param(npy_header((1,), ("<f8", (2**27,))) + bytes(8), "weight files hold numbers", id="gigabyte-subarray-dtype"),
    pytest.param(npy_header((2,), [("a", "<f8"), ("b", "<i4")]) + bytes(24), "weight files hold numbers", id="structured-dtype"),
    pytest.param(b"\x93NUMPY\x02\x00" + struct.pack("<I", 2**31) + b"{'descr': '<f8'", "is damaged", id="header-length-of-2-gib"),
    pytest.param(b"\x93NUMPY\x01\x00" + struct.pack("<H", 65535) + b"{" + b" " * 65534, "is damaged", id="header-of-64-kib"),
]


@pytest.mark.parametrize("member, fragment", GIGANTIC)
def test_a_header_claiming_too_much_is_refused_before_allocating(tmp_path, member, fragment):
    outcome = load_safely(write(tmp_path, "bomb.npz", zip_bytes({"w.npy": member})))
    assert refused(outcome, fragment), outcome


@pytest.mark.parametrize("data, fragment", [
    pytest.param(deflated_member_claiming(2**31), "claims 2147483648 bytes", id="deflated-member-claiming-2-gib"),
    pytest.param(deflated_member_claiming(2**32 - 1), "more than the file can hold", id="deflated-member-claiming-4-gib"),
    pytest.param(deflate_stream_longer_than_its_entry(), "is damaged", id="deflate-stream-longer-than-its-entry"),
])
def test_a_zip_entry_claiming_too_much_is_refused_before_inflating(tmp_path, data, fragment):
    outcome = load_safely(write(tmp_path, "bomb.npz", data))
    assert refused(outcome, fragment), outcome


# ----- member names -----
ODD_NAMES = ["../x", "../../../../tmp/x", "/etc/passwd", "..\\x", "C:\\Windows\\x", "a/../../b",
             "./x", "日本語 ünïcode", "🙂", "x" * 60_000, "", " ", "a\nb", "con", "x.npy"]


@pytest.mark.parametrize("name", ODD_NAMES, ids=lambda name: repr(name[:20]))
def test_an_odd_member_name_is_only_a_key(tmp_path, name):
    weight = np.array([1.5, -0.0])
    folder = tmp_path / "inside"
    folder.mkdir()
    path = write(folder, "names.npz", zip_bytes({name + ".npy": npy_header((2,)) + weight.tobytes()}))
    assert identical(load_safely(path), {name: weight})
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["inside", "names.npz"]


def test_a_name_in_the_old_zip_encoding_is_read_as_cp437(tmp_path):
    data = zip_bytes({"ab.npy": npy_header((1,)) + bytes(8)})
    data = renamed(data, b"ab.npy", b"\x81\x82.npy")  # no UTF-8 flag: cp437, as zipfile reads it
    assert identical(load_safely(write(tmp_path, "cp437.npz", data)), {"üé": np.zeros(1)})


@pytest.mark.parametrize("data, fragment", [
    pytest.param(renamed(zip_bytes({"xA.npy": npy_header((1,)) + bytes(8)}), b"xA.npy", b"x\0.npy"), "member 'x' is not a .npy array", id="nul-in-name"),
    pytest.param(zip_bytes({"folder/": b""}), "member 'folder/' is not a .npy array", id="directory-entry"),
])
def test_a_member_name_that_is_not_an_array_is_refused(tmp_path, data, fragment):
    outcome = load_safely(write(tmp_path, "names.npz", data))
    assert refused(outcome, fragment), outcome


# ----- valid files come back bit for bit -----
BIT_PATTERN_DTYPES = [np.float16, np.float32, np.float64, np.longdouble, np.complex64,
                      np.complex128, ">f2", ">f4", ">f8", ">c16", np.int8, ">i8", np.uint64]


@st.composite
def arrays_of_any_bits(draw):
    """Arrays whose bytes are arbitrary: every NaN payload, subnormals, -0.0, padding bytes."""
    dtype = np.dtype(draw(st.sampled_from(BIT_PATTERN_DTYPES)))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4))
    size = int(np.prod(shape)) * dtype.itemsize
    array = np.frombuffer(draw(st.binary(min_size=size, max_size=size)), dtype=dtype).reshape(shape)
    layout = draw(st.sampled_from(["C", "Fortran", "reversed", "transposed"]))
    if layout == "Fortran":
        return np.asfortranarray(array)
    if layout == "reversed" and array.ndim:
        return array[::-1]  # a negative stride
    return array.T if layout == "transposed" else array


@given(st.dictionaries(st.sampled_from(["w", "layers.0.bias", "../x", "ω"]), arrays_of_any_bits(),
                       min_size=1, max_size=4))
def test_any_bit_pattern_round_trips_exactly(tmp_path_factory, state):
    path = tmp_path_factory.mktemp("bits") / "w.npz"
    save(state, path)
    assert identical(load(path), state)


SPECIAL_BITS = {  # +0, -0, smallest subnormal, largest, inf, -inf, quiet, signalling, payload NaNs
    np.float64: [0, 1 << 63, 1, 0x7FEFFFFFFFFFFFFF, 0x7FF0000000000000, 0xFFF0000000000000,
                 0x7FF8000000000000, 0x7FF0000000000001, 0xFFF8DEADBEEF0000, 0xFFFFFFFFFFFFFFFF],
    np.float32: [0, 1 << 31, 1, 0x7F7FFFFF, 0x7F800000, 0xFF800000, 0x7FC00000, 0x7F800001,
                 0xFFC0BEEF, 0xFFFFFFFF],
    np.float16: [0, 1 << 15, 1, 0x7BFF, 0x7C00, 0xFC00, 0x7E00, 0x7C01, 0xFE5A, 0xFFFF],
}


def test_special_values_round_trip_with_their_exact_bits(tmp_path):
    unsigned = {np.float64: np.uint64, np.float32: np.uint32, np.float16: np.uint16}
    state = {np.dtype(dtype).name: np.array(bits, dtype=unsigned[dtype]).view(dtype)
             for dtype, bits in SPECIAL_BITS.items()}
    save(state, tmp_path / "special.npz")
    assert identical(load_safely(tmp_path / "special.npz"), state)


def test_a_module_round_trips_through_a_file_bit_for_bit(tmp_path):
    def model(seed):
        return nn.Sequential(nn.Linear(3, 4, dtype=np.float32, generator=seed),
                             nn.BatchNorm1d(4, dtype=np.float32))

    trained = model(0)
    trained(Tensor(np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)))  # stats
    weight = trained[0].weight.data.copy()
    weight.view(np.uint32)[0, :3] = [0x80000000, 0x7FC0BEEF, 1]  # -0.0, a NaN payload, subnormal
    trained[0].weight.data = weight
    save(trained, tmp_path / "model.npz")
    fresh = model(1)
    fresh.load_state_dict(load_safely(tmp_path / "model.npz"))
    assert identical(fresh.state_dict(), trained.state_dict())
