"""Tests of nn.save / nn.load: exact round trips, atomic saves, and files that must be refused
without running anything (pickles, object arrays, truncated files, lying headers)."""
import io
import os
import pickle
import struct
import tempfile
import time
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_core import Tensor, Value
from nn.serialization import WeightFileError, load, save

DTYPES = [np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8,
          np.uint64, np.bool_, np.complex64, np.dtype(">f8"), np.dtype(">i4")]
NAMES = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\0"),
                min_size=1, max_size=12)


def assert_identical(loaded: dict, saved: dict) -> None:
    """Same names in the same order, and each array the same dtype, shape and bits."""
    assert list(loaded) == list(saved)
    for name, expected in saved.items():
        expected = np.asarray(expected)
        got = loaded[name]
        assert type(got) is np.ndarray
        assert got.dtype == expected.dtype and got.shape == expected.shape, name
        assert np.array_equal(got, expected, equal_nan=True), name
        assert got.tobytes() == expected.tobytes(), name  # -0.0, nan payloads


class Evil:
    """Unpickling it calls open(marker, "w"): the marker file appearing means code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def npy_bytes(header: dict, body: bytes) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + body


def zip_with(path, members: dict) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


# ----- round trips -----
ARRAYS = hnp.arrays(st.sampled_from(DTYPES),
                    hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))


@given(st.dictionaries(NAMES, ARRAYS, min_size=1, max_size=4), st.booleans())
def test_round_trip_is_bit_for_bit(state, fortran):
    if fortran:
        state = {name: np.asfortranarray(array) for name, array in state.items()}
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "w.npz")
        save(state, path)
        assert_identical(load(path), state)


def test_round_trip_of_special_values_names_and_kinds(tmp_path):
    fortran = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    state = {
        "layers.0.weight": np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 5e-324]),
        "../x": np.float32(-0.0),
        "/etc/passwd": np.zeros((0, 3), np.int16),
        "日本語 ünïcode": fortran,
        "tensor": Tensor(np.ones((2, 2), np.float32)),
        "value": Value(2.5),
        "count": 7,
        "flag": True,
        "ratio": 0.1,
        "file": np.int8(-1),          # names that np.savez's keyword arguments would take
        "allow_pickle": np.uint16(3),
        "a": np.array(1.0),
    }
    path = tmp_path / "weights"  # no .npz: written to exactly this name
    save(state, path)
    assert sorted(os.listdir(tmp_path)) == ["weights"]
    loaded = load(path)
    expected = {name: value.data if hasattr(value, "data") and not isinstance(value, np.ndarray)
                else value for name, value in state.items()}
    assert_identical(loaded, expected)
    assert loaded["count"].dtype == np.int64 and loaded["flag"].dtype == np.bool_
    assert loaded["日本語 ünïcode"].flags.f_contiguous
    with np.load(path, allow_pickle=False) as npz:  # a plain npz: numpy reads it too
        assert list(npz.keys()) == list(state)


def test_overwriting_writes_through_a_symlink_and_keeps_the_permissions(tmp_path):
    real, link = tmp_path / "real.npz", tmp_path / "latest.npz"
    save({"w": np.zeros(2)}, real)
    os.chmod(real, 0o600)
    link.symlink_to(real)
    save({"w": np.ones(2)}, link)
    assert link.is_symlink() and load(real)["w"].tolist() == [1.0, 1.0]
    assert (real.stat().st_mode & 0o777) == 0o600  # a private checkpoint stays private


def test_a_long_file_name_and_a_bytes_path_save(tmp_path):
    long_name = tmp_path / ("w" * 246 + ".npz")  # 250 bytes: under the 255 limit, with no room
    save({"w": np.arange(3.0)}, long_name)       # for a temporary name built from it
    assert load(long_name)["w"].tolist() == [0.0, 1.0, 2.0]
    save({"w": np.arange(2.0)}, os.fsencode(tmp_path / "b.npz"))
    assert load(tmp_path / "b.npz")["w"].tolist() == [0.0, 1.0]
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_save_takes_an_object_with_state_dict(tmp_path):
    class TinyModule:
        def __init__(self):
            self.weight = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
            self.bias = Tensor(np.zeros(2, np.float32), requires_grad=True)

        def state_dict(self):
            return {"weight": self.weight, "bias": self.bias}

    module = TinyModule()
    save(module, str(tmp_path / "m.npz"))
    assert_identical(load(tmp_path / "m.npz"), {"weight": module.weight.data,
                                                "bias": module.bias.data})


def test_reads_numpy_savez_and_savez_compressed(tmp_path):
    arrays = {"x": np.arange(1000.0), "y": np.eye(3, dtype=np.int32)}
    np.savez(tmp_path / "plain.npz", **arrays)
    np.savez_compressed(tmp_path / "small.npz", **arrays)
    assert_identical(load(tmp_path / "plain.npz"), arrays)
    assert_identical(load(tmp_path / "small.npz"), arrays)


def test_same_weights_give_the_same_bytes(tmp_path):
    state = {"w": np.arange(5.0), "b": np.ones(2)}
    save(state, tmp_path / "a.npz")
    time.sleep(0.01)
    save(state, tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


# ----- what save refuses -----
@pytest.mark.parametrize("state, error, match", [
    ({1: np.zeros(2)}, TypeError, "1"),
    ({"": np.zeros(2)}, ValueError, "''"),
    ({"a\0b": np.zeros(2)}, ValueError, "NUL"),
    ({"objects": np.array([None, 1], dtype=object)}, TypeError, "'objects'"),
    ({"words": np.array(["a", "b"])}, TypeError, "'words'"),
    ({"listed": [1.0, 2.0]}, TypeError, "'listed'"),
    ([np.zeros(2)], TypeError, "mapping"),
])
def test_save_rejects_bad_names_and_values(tmp_path, state, error, match):
    with pytest.raises(error, match=match):
        save(state, tmp_path / "w.npz")
    assert os.listdir(tmp_path) == []


def test_a_failing_save_keeps_the_old_file_and_leaves_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "w.npz"
    save({"w": np.arange(3.0)}, path)
    old_bytes = path.read_bytes()
    with pytest.raises(TypeError, match="'bad'"):
        save({"w": np.zeros(3), "bad": object()}, path)
    assert path.read_bytes() == old_bytes and os.listdir(tmp_path) == ["w.npz"]

    def write_half_then_fail(member, array, allow_pickle):
        member.write(b"\x93NUMPY partial")
        raise OSError("No space left on device")

    monkeypatch.setattr(np.lib.format, "write_array", write_half_then_fail)
    with pytest.raises(OSError, match="No space"):
        save({"w": np.zeros(3)}, path)
    assert path.read_bytes() == old_bytes and os.listdir(tmp_path) == ["w.npz"]
    monkeypatch.undo()
    assert_identical(load(path), {"w": np.arange(3.0)})


# ----- what load refuses, without running anything -----
def test_a_malicious_pickle_does_not_run(tmp_path):
    payload = pickle.dumps(Evil(tmp_path / "control"))
    pickle.loads(payload)  # the payload is live: plain pickle runs it
    assert (tmp_path / "control").exists()
    marker = tmp_path / "marker"
    (tmp_path / "evil.npz").write_bytes(pickle.dumps(Evil(marker)))
    with pytest.raises(WeightFileError, match="evil.npz.*not an .npz"):
        load(tmp_path / "evil.npz")
    assert not marker.exists()


def test_an_object_array_is_refused_without_unpickling(tmp_path):
    marker = tmp_path / "marker"
    np.savez(tmp_path / "evil.npz", weight=np.array([Evil(marker)], dtype=object),
             allow_pickle=True)
    with pytest.raises(WeightFileError, match="evil.npz.*'weight.npy'.*Python objects.*pickle"):
        load(tmp_path / "evil.npz")
    assert not marker.exists()


def test_truncated_files_are_refused(tmp_path):
    path = tmp_path / "w.npz"
    save({"a": np.arange(100.0), "b": np.ones((4, 4), np.float32)}, path)
    whole = path.read_bytes()
    for length in [0, 1, 4, 30, 200, len(whole) // 2, len(whole) - 22, len(whole) - 1]:
        cut = tmp_path / f"cut{length}.npz"
        cut.write_bytes(whole[:length])
        problem = "truncated" if length >= 4 else "not an .npz"
        with pytest.raises(WeightFileError, match=f"cut{length}.npz: {problem}"):
            load(cut)


def test_random_bytes_are_refused(tmp_path):
    path = tmp_path / "noise.npz"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(WeightFileError, match="noise.npz"):
        load(path)
    assert issubclass(WeightFileError, ValueError)


def test_a_header_claiming_a_huge_shape_is_refused_before_allocating(tmp_path):
    path = tmp_path / "bomb.npz"
    header = {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
    zip_with(path, {"x.npy": npy_bytes(header, b"\0" * 16)})
    tracemalloc.start()
    try:
        with pytest.raises(WeightFileError, match=r"bomb.npz.*\(1000000000000,\)"):
            load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20  # the 8 TB the header claims were never asked for


def test_zip_sizes_larger_than_the_file_are_refused(tmp_path):
    # The header and the zip directory agree on 1 GiB of data that the file does not hold
    header = {"descr": "<f8", "fortran_order": False, "shape": (2**27,)}
    member = npy_bytes(header, b"\0" * 16)
    claimed_size = len(member) - 16 + 8 * 2**27
    buffer = io.BytesIO()
    zip_with(buffer, {"x.npy": member})
    data = bytearray(buffer.getvalue())
    directory = data.index(b"PK\x01\x02")
    struct.pack_into("<II", data, directory + 20, claimed_size, claimed_size)
    (tmp_path / "liar.npz").write_bytes(bytes(data))
    with pytest.raises(WeightFileError, match="liar.npz.*more than the file can hold"):
        load(tmp_path / "liar.npz")


def test_members_that_are_not_npy_arrays_are_refused(tmp_path):
    zip_with(tmp_path / "text.npz", {"x.npy": npy_bytes(
        {"descr": "<f8", "fortran_order": False, "shape": (1,)}, b"\0" * 8),
        "notes.txt": b"hello"})
    with pytest.raises(WeightFileError, match="'notes.txt' is not a .npy"):
        load(tmp_path / "text.npz")
    zip_with(tmp_path / "fake.npz", {"x.npy": b"not numpy at all"})
    with pytest.raises(WeightFileError, match="fake.npz.*'x.npy'"):
        load(tmp_path / "fake.npz")
    zip_with(tmp_path / "words.npz", {"x.npy": npy_bytes(
        {"descr": "<U2", "fortran_order": False, "shape": (1,)}, b"\0" * 8)})
    with pytest.raises(WeightFileError, match="hold numbers"):
        load(tmp_path / "words.npz")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        zip_with(tmp_path / "twice.npz", {"x.npy": npy_bytes(
            {"descr": "<f8", "fortran_order": False, "shape": ()}, b"\0" * 8)})
        with zipfile.ZipFile(tmp_path / "twice.npz", "a") as archive:
            archive.writestr("x.npy", b"")
    with pytest.raises(WeightFileError, match="'x.npy' appears twice"):
        load(tmp_path / "twice.npz")


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(Path(tmp_path) / "absent.npz")
