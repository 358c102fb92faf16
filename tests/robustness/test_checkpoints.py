"""Checkpoints: atomic without side effects (temporary files, permissions, links), and a loader that
refuses every malformed file with a CheckpointError -- never a pickle, a MemoryError, a KeyError or
a RecursionError -- and the safetensors format beside .npz."""

import os
import pickle
import signal
import stat
import struct
import subprocess
import sys
import textwrap
import time
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinymed
from tinymed import nn
from tinymed.serialization import CheckpointError


def checkpoint(seed=0):
    rng = np.random.default_rng(seed)
    return {"w": rng.normal(size=(20, 30)), "step": seed, "name": f"run {seed}", "nested": {"t": (1, [2.5, None])}}


def same(a, b):
    assert a.keys() == b.keys()
    np.testing.assert_array_equal(a["w"], b["w"])
    assert (a["step"], a["name"], a["nested"]) == (b["step"], b["name"], b["nested"])


# ----- writing: atomic, and no side effects -------------------------------------------------------
KILLER = textwrap.dedent("""
    import sys, numpy as np, tinymed
    path, big = sys.argv[1], np.random.default_rng(0).normal(size=(400, 1000))
    step = 0
    while True:
        step += 1
        tinymed.save({"step": step, "w": big * step, "check": float((big * step).sum())}, path)
        print(step, flush=True)
""")


def test_kill_9_mid_save_never_breaks_the_checkpoint_and_the_next_save_sweeps_the_leftovers(tmp_path):
    path = tmp_path / "ckpt.npz"
    rng = np.random.default_rng(0)
    for _ in range(6):
        proc = subprocess.Popen([sys.executable, "-c", KILLER, str(path)], stdout=subprocess.PIPE, text=True)
        proc.stdout.readline()  # at least one save finished
        time.sleep(rng.uniform(0.0, 0.15))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        state = tinymed.load(path)  # whatever was last renamed into place, whole
        np.testing.assert_allclose(state["w"].sum(), state["check"], rtol=1e-9)
    leftovers = [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    tinymed.save(checkpoint(), path)
    assert sorted(os.listdir(tmp_path)) == ["ckpt.npz"], leftovers  # swept, whatever the kills left


def test_a_live_save_s_temporary_file_is_not_swept(tmp_path):
    path = tmp_path / "ckpt.npz"
    live = tmp_path / f".ckpt.npz.tinymed-{os.getpid()}-abc.tmp"  # this process is alive
    live.write_bytes(b"partial")
    tinymed.save(checkpoint(), path)
    assert live.exists()


def test_a_write_protected_checkpoint_is_refused_and_kept(tmp_path):
    path = tmp_path / "keep.npz"
    tinymed.save(checkpoint(1), path)
    os.chmod(path, 0o444)
    try:
        with pytest.raises(PermissionError, match="write-protected"):
            tinymed.save(checkpoint(2), path)
        same(tinymed.load(path), checkpoint(1))
    finally:
        os.chmod(path, 0o644)


def test_a_new_file_follows_the_umask_and_an_overwritten_one_keeps_its_mode(tmp_path):
    old = os.umask(0o027)
    try:
        tinymed.save(checkpoint(), tmp_path / "new.npz")
        assert stat.S_IMODE(os.stat(tmp_path / "new.npz").st_mode) == 0o640
    finally:
        os.umask(old)
    path = tmp_path / "shared.npz"
    tinymed.save(checkpoint(), path)
    os.chmod(path, 0o604)
    tinymed.save(checkpoint(3), path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o604


def test_saving_through_a_symlink_writes_its_target_and_keeps_the_link(tmp_path):
    target = tmp_path / "runs" / "real.npz"
    target.parent.mkdir()
    tinymed.save(checkpoint(1), target)
    link = tmp_path / "latest.npz"
    link.symlink_to(target)
    tinymed.save(checkpoint(2), link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    same(tinymed.load(target), checkpoint(2))


def test_saving_onto_a_folder_is_a_clear_error(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a folder"):
        tinymed.save(checkpoint(), tmp_path)


# ----- reading: every malformed file is a CheckpointError ----------------------------------------
def test_a_text_a_truncated_an_empty_and_a_pickled_file_are_each_called_what_they_are(tmp_path):
    text = tmp_path / "notes.npz"
    text.write_text("patient 1: fever\n")
    with pytest.raises(CheckpointError, match="starts with b'patient ") as err:
        tinymed.load(text)
    assert "pickle" not in str(err.value)
    good = tmp_path / "good.npz"
    tinymed.save(checkpoint(), good)
    cut = tmp_path / "cut.npz"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="damaged or truncated") as err:
        tinymed.load(cut)
    assert "pickle" not in str(err.value)
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError, match="is empty"):
        tinymed.load(empty)
    pickled = tmp_path / "model.pt"
    pickled.write_bytes(pickle.dumps({"w": 1}))
    with pytest.raises(CheckpointError, match="pickled Python object"):
        tinymed.load(pickled)


@settings(max_examples=40)
@given(data=st.data())
def test_any_corruption_of_a_checkpoint_is_refused_or_harmless(tmp_path_factory, data):
    """Random cuts and byte flips: a CheckpointError naming the file, never another exception."""
    folder = tmp_path_factory.mktemp("corrupt")
    suffix = data.draw(st.sampled_from([".npz", ".safetensors"]))
    path = folder / f"c{suffix}"
    tinymed.save(checkpoint(), path)
    raw = bytearray(path.read_bytes())
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    else:
        for _ in range(data.draw(st.integers(1, 8))):
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    path.write_bytes(bytes(raw))
    try:
        tinymed.load(path)
    except CheckpointError as err:
        assert str(path) in str(err)


def craft_npz(path, members):
    """An .npz whose members are given as raw bytes (a header may lie about the data)."""
    with zipfile.ZipFile(path, "w") as z:
        for name, raw in members.items():
            z.writestr(name, raw)


def npy_header(shape, dtype="<f8"):
    header = repr({"descr": dtype, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (-(10 + len(header) + 1) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header


def test_a_declared_shape_of_a_trillion_elements_is_refused_before_any_allocation(tmp_path):
    path = tmp_path / "huge.npz"
    craft_npz(path, {"w.npy": npy_header((10**12,)) + b"\0" * 64})
    with pytest.raises(CheckpointError, match=r"declares shape \(1000000000000,\).*max_bytes"):
        tinymed.load(path)
    craft_npz(path, {"w.npy": npy_header((1000,)) + b"\0" * 64})
    with pytest.raises(CheckpointError, match="declares 8,000 bytes of data but its member holds only"):
        tinymed.load(path)


def test_an_archive_that_inflates_past_max_bytes_is_refused(tmp_path):
    path = tmp_path / "bomb.npz"
    np.savez_compressed(path, zeros=np.zeros(2**21))  # 16 MiB of zeros in a few KiB
    assert path.stat().st_size < 100_000
    with pytest.raises(CheckpointError, match="max_bytes"):
        tinymed.load(path, max_bytes=2**20)
    assert tinymed.load(path)["zeros"].shape == (2**21,)  # within the default limit


@pytest.mark.parametrize("description", [
    "not json", '{"format": "tinymed-checkpoint"}', '{"format": "tinymed-checkpoint", "version": 1, "kinds": 5}',
    '{"format": "tinymed-checkpoint", "version": 1, "kinds": {"": "dict", "a": "lambda"}}',
    '{"format": "tinymed-checkpoint", "version": 1, "kinds": {"": "dict", "a/b": "int"}}',
    '{"format": "tinymed-checkpoint", "version": 1, "kinds": {"": "list", "5": "int"}}',
    '{"format": "tinymed-checkpoint", "version": 1, "kinds": {"": "dict", "missing": "int"}}',
    '{"format": "tinymed-checkpoint", "version": "1", "kinds": {"": "dict"}}',
    '{"format": "other", "version": 1, "kinds": {"": "dict"}}',
    '[1, 2]',
])
def test_crafted_descriptions_are_checkpoint_errors(tmp_path, description):
    path = tmp_path / "crafted.npz"
    np.savez(path, __tinymed__=np.array(description), a=np.array(1), x=np.ones(2))
    with pytest.raises(CheckpointError):
        tinymed.load(path)


def test_deep_and_wide_nesting_loads_without_recursion(tmp_path):
    deep = current = {}
    for _ in range(3000):
        current["next"] = {}
        current = current["next"]
    wide = {f"d{i}": {"v": i} for i in range(8000)}
    path = tmp_path / "nest.npz"
    tinymed.save({"deep": deep, "wide": wide}, path)
    state = tinymed.load(path)
    depth, node = 0, state["deep"]
    while "next" in node:
        depth, node = depth + 1, node["next"]
    assert depth == 3000 and state["wide"]["d7999"] == {"v": 7999}


# ----- safetensors ----------------------------------------------------------------------------------
def test_safetensors_round_trip_of_a_module_and_a_nested_checkpoint(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    tinymed.save(model, tmp_path / "model.safetensors")
    loaded = tinymed.load(tmp_path / "model.safetensors")
    assert list(loaded) == list(model.state_dict())
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(loaded[key], value)
    tinymed.save(checkpoint(4), tmp_path / "ckpt.safetensors")
    same(tinymed.load(tmp_path / "ckpt.safetensors"), checkpoint(4))


def test_safetensors_files_are_recognised_by_content_and_refuse_what_they_cannot_hold(tmp_path):
    tinymed.save({"w": np.arange(6.0)}, tmp_path / "w.safetensors")
    renamed = tmp_path / "w.bin"
    renamed.write_bytes((tmp_path / "w.safetensors").read_bytes())
    np.testing.assert_array_equal(tinymed.load(renamed)["w"], np.arange(6.0))
    with pytest.raises(CheckpointError, match="array of strings"):
        tinymed.save({"labels": np.array(["a", "b"])}, tmp_path / "s.safetensors")
    with pytest.raises(CheckpointError, match="complex128"):
        tinymed.save({"z": np.ones(2, complex)}, tmp_path / "z.safetensors")


def test_tinymed_and_the_safetensors_package_read_each_other(tmp_path):
    st_numpy = pytest.importorskip("safetensors.numpy", reason="safetensors is not installed")
    arrays = {"a.weight": np.arange(12, dtype=np.float32).reshape(3, 4), "b": np.array([1, -2], dtype=np.int64),
              "c": np.array([True, False]), "d": np.float16([0.5, 2.0]), "e": np.zeros((0, 3))}
    tinymed.save(arrays, tmp_path / "ours.safetensors")
    theirs = st_numpy.load_file(str(tmp_path / "ours.safetensors"))
    assert theirs.keys() == arrays.keys()
    for key, value in arrays.items():
        assert theirs[key].dtype == value.dtype
        np.testing.assert_array_equal(theirs[key], value)
    st_numpy.save_file(arrays, str(tmp_path / "theirs.safetensors"), metadata={"source": "elsewhere"})
    ours = tinymed.load(tmp_path / "theirs.safetensors")
    assert ours.keys() == arrays.keys()
    for key, value in arrays.items():
        assert ours[key].dtype == value.dtype
        np.testing.assert_array_equal(ours[key], value)


def test_bfloat16_tensors_are_read_exactly_as_float32(tmp_path):
    values = np.array([1.0, -2.5, 3.140625, 0.0], dtype=np.float32)
    bits = (values.view(np.uint32) >> 16).astype("<u2")  # exact: these need no more than 8 mantissa bits
    header = f'{{"x":{{"dtype":"BF16","shape":[4],"data_offsets":[0,{bits.nbytes}]}}}}'.encode()
    header += b" " * (-(8 + len(header)) % 8)
    path = tmp_path / "bf16.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + bits.tobytes())
    loaded = tinymed.load(path)["x"]
    assert loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded, values)


@pytest.mark.parametrize("header", [
    '{"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 16]}}',      # 8 bytes declared as 16
    '{"x": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}}',      # a hole at the start
    '{"x": {"dtype": "Q9", "shape": [4], "data_offsets": [0, 16]}}',       # an unknown dtype
    '{"x": {"dtype": "F32", "shape": [-4], "data_offsets": [0, 16]}}',     # a negative size
    '{"x": [1, 2, 3]}', '[1]', '{"__metadata__": {"a": 1}}', '{bad json',
])
def test_malformed_safetensors_headers_are_checkpoint_errors(tmp_path, header):
    raw = header.encode()
    path = tmp_path / "bad.safetensors"
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"\0" * 16)
    with pytest.raises(CheckpointError):
        tinymed.load(path)
