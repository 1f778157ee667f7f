"""The data layer: every source, the fallbacks with their messages, and the bundled sample."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision.datasets as tvd
from torchvision import transforms

from cnn_dash import data
from cnn_dash.idx import IdxError, read_idx, write_idx

ROOT = Path(__file__).resolve().parents[1]
FULL = ROOT.parent / "shared" / "datasets"
needs_full = pytest.mark.skipif(not (FULL / "MNIST" / "raw").is_dir(), reason="../shared/datasets is absent")


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Each test gets its own cache dir, no data dir, no Debian package and a fresh process cache."""
    monkeypatch.setenv("CNN_DASH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("CNN_DASH_DATA_DIR", raising=False)
    monkeypatch.delenv("CNN_DASH_DOWNLOAD", raising=False)  # conftest switches downloads off elsewhere
    monkeypatch.setattr(data, "DEBIAN_DIR", tmp_path / "no-debian")
    data.clear_cache()
    yield
    data.clear_cache()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def offline_mirrors(monkeypatch):
    """torchvision's mirrors pointed at a closed local port: a download fails at once, as offline."""
    url = f"http://127.0.0.1:{closed_port()}/"
    for name in data.DATASETS:
        monkeypatch.setattr(getattr(tvd, name), "mirrors", [url])


def make_root(root: Path, name: str, per_class_train: int = 20, per_class_test: int = 5) -> Path:
    """A torchvision-layout root holding a small slice of the bundled sample."""
    sample = data.load_dataset(name, source="bundled")
    raw = root / name / "raw"
    raw.mkdir(parents=True)
    for split, (images_file, labels_file) in data.RAW_FILES.items():
        x, y = (sample.train_images, sample.train_labels) if split == "train" else \
            (sample.test_images, sample.test_labels)
        n = (per_class_train if split == "train" else per_class_test) * 10
        write_idx(raw / images_file, x[:n].numpy())
        write_idx(raw / labels_file, y[:n].numpy().astype(np.uint8))
    return root


# --- the bundled sample -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", data.DATASETS)
def test_bundled_sample_is_stratified_uint8(name):
    ds = data.load_dataset(name, source="bundled")
    assert ds.source_kind == "bundled" and "bundled" in ds.source
    assert ds.train_images.dtype == torch.uint8 and ds.test_images.dtype == torch.uint8
    assert ds.train_labels.dtype == torch.int64 and ds.test_labels.dtype == torch.int64
    assert ds.train_images.shape == (10_000, 28, 28) and ds.test_images.shape == (2_000, 28, 28)
    assert torch.bincount(ds.train_labels).tolist() == [1000] * 10
    assert torch.bincount(ds.test_labels).tolist() == [200] * 10
    assert len(ds.classes) == 10


def test_bundled_sample_is_small():
    total = sum(p.stat().st_size for p in data.SAMPLE_DIR.rglob("*") if p.is_file())
    assert total <= 8_000_000, f"bundled data is {total:,} bytes"


@needs_full
def test_sample_script_reproduces_the_shipped_files(tmp_path):
    """The shipped test split is exactly what scripts/make_sample.py derives from the full data."""
    from scripts.make_sample import stratified_indices

    for name in data.DATASETS:
        labels = read_idx(FULL / name / "raw" / "t10k-labels-idx1-ubyte")
        images = read_idx(FULL / name / "raw" / "t10k-images-idx3-ubyte")
        keep = stratified_indices(labels, 200, seed=0)
        write_idx(tmp_path / "x.xz", images[keep])
        assert (tmp_path / "x.xz").read_bytes() == (data.SAMPLE_DIR / name / "test-images.xz").read_bytes()


def test_fashion_class_names():
    assert data.CLASSES["FashionMNIST"][6] == "Shirt" and data.CLASSES["FashionMNIST"][1] == "Trouser"
    assert data.CLASSES["MNIST"] == tuple("0123456789")


# --- the sources in order -----------------------------------------------------------------------------

@needs_full
def test_data_dir_gives_the_full_datasets(monkeypatch):
    monkeypatch.setenv("CNN_DASH_DATA_DIR", str(FULL))
    for name in data.DATASETS:
        ds = data.load_dataset(name)
        assert ds.source_kind == "data_dir" and str(FULL) not in ds.source  # words, never the server's path
        assert ds.source == f"full {'Fashion-MNIST' if name == 'FashionMNIST' else 'MNIST'} in a local folder"
        assert len(ds.train_labels) == 60_000 and len(ds.test_labels) == 10_000
        assert ds.size_text == "60,000 train / 10,000 test images"
        assert ds.train_images.dtype == torch.uint8


@pytest.mark.parametrize("damage", ["truncate", "delete"])
def test_bad_file_in_data_dir_is_named_and_falls_back(tmp_path, monkeypatch, offline_mirrors, damage):
    root = make_root(tmp_path / "data", "MNIST")
    bad = root / "MNIST" / "raw" / "train-images-idx3-ubyte"
    if damage == "truncate":
        bad.write_bytes(bad.read_bytes()[:5000])
    else:
        bad.unlink()
    monkeypatch.setenv("CNN_DASH_DATA_DIR", str(root))
    ds = data.load_dataset("MNIST")
    assert ds.source_kind == "bundled"
    note = ds.notes[0]
    assert str(bad) in note and ("truncated" if damage == "truncate" else "missing") in note


def test_truncated_file_message_gives_the_sizes(tmp_path):
    path = tmp_path / "labels"
    write_idx(path, np.zeros(100, dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(IdxError, match=r"truncated: shape \(100,\) needs 108 bytes, the file has 50"):
        read_idx(path)


def test_debian_package_layout(tmp_path, monkeypatch):
    """Debian's gzipped files are unpacked into the cache and read through torchvision."""
    staged = make_root(tmp_path / "staged", "FashionMNIST")
    debian = tmp_path / "debian"
    debian.mkdir()
    for f in (staged / "FashionMNIST" / "raw").iterdir():
        write_idx(debian / f"{f.name}.gz", read_idx(f))
    monkeypatch.setattr(data, "DEBIAN_DIR", debian)
    ds = data.load_dataset("FashionMNIST")
    assert ds.source_kind == "debian" and len(ds.train_labels) == 200 and len(ds.test_labels) == 50
    assert ds.notes == ("CNN_DASH_DATA_DIR: CNN_DASH_DATA_DIR is not set.",)


def test_download_offline_falls_back_with_a_message(offline_mirrors):
    start = time.monotonic()
    ds = data.load_dataset("MNIST")
    assert time.monotonic() - start < 10
    assert ds.source_kind == "bundled"
    assert any(n.startswith("download: download failed") for n in ds.notes)


def test_download_that_hangs_is_abandoned_within_the_bound(monkeypatch):
    """A server that accepts and never answers: the download is given up after timeout_s."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    threading.Thread(target=lambda: held.append(server.accept()[0]), daemon=True).start()
    monkeypatch.setattr(tvd.MNIST, "mirrors", [f"http://127.0.0.1:{server.getsockname()[1]}/"])
    start = time.monotonic()
    ds = data.load_dataset("MNIST", timeout_s=1.0)
    assert time.monotonic() - start < 5
    assert ds.source_kind == "bundled"
    assert any("gave up after 1 s" in n for n in ds.notes)
    server.close()


def test_downloads_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("CNN_DASH_DOWNLOAD", "0")
    ds = data.load_dataset("MNIST")
    assert ds.source_kind == "bundled" and "download: downloads are switched off (CNN_DASH_DOWNLOAD=0)." in ds.notes


def test_an_earlier_download_in_the_cache_is_used_offline(tmp_path, monkeypatch, offline_mirrors):
    make_root(data.cache_dir() / "download", "MNIST")
    ds = data.load_dataset("MNIST")
    assert ds.source_kind == "download" and len(ds.train_labels) == 200


def test_forced_source_that_fails_raises_a_clear_error():
    with pytest.raises(data.DataSourceError, match="CNN_DASH_DATA_DIR is not set"):
        data.load_dataset("MNIST", source="data_dir")
    with pytest.raises(ValueError, match="unknown dataset"):
        data.load_dataset("CIFAR10")


# --- sharing and normalisation ------------------------------------------------------------------------

def test_loaded_once_and_shared_between_threads():
    data.clear_cache()
    assert not data.is_loaded("MNIST", source="bundled")
    results = []
    threads = [threading.Thread(target=lambda: results.append(data.load_dataset("MNIST", source="bundled")))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(r) for r in results}) == 1
    assert data.load_dataset("MNIST", source="bundled") is results[0]
    assert data.is_loaded("MNIST", source="bundled") and not data.is_loaded("FashionMNIST", source="bundled")


@pytest.mark.parametrize("name", data.DATASETS)
def test_normalize_matches_torchvision_transforms(name):
    ds = data.load_dataset(name, source="bundled")
    images = ds.train_images[:64]
    oracle = transforms.Compose([transforms.ToTensor(), transforms.Normalize((ds.mean,), (ds.std,))])
    expected = torch.stack([oracle(img.numpy()) for img in images])
    got = data.normalize(images, ds)
    assert got.shape == (64, 1, 28, 28) and got.dtype == torch.float32
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_examples_are_balanced_and_seeded():
    ds = data.load_dataset("FashionMNIST", source="bundled")
    images, labels = data.examples(ds, per_class=2, seed=3)
    assert labels.tolist() == [c for c in range(10) for _ in range(2)]
    assert torch.equal(images, data.examples(ds, per_class=2, seed=3)[0])
    assert not torch.equal(images, data.examples(ds, per_class=2, seed=4)[0])


def test_core_does_not_import_streamlit():
    code = ("import sys, importlib, pkgutil, cnn_dash\n"
            "for m in pkgutil.iter_modules(cnn_dash.__path__):\n"
            "    if m.name != 'ui': importlib.import_module('cnn_dash.' + m.name)\n"
            "assert 'streamlit' not in sys.modules, 'the core imported streamlit'\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env)
