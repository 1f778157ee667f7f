"""MNIST and Fashion-MNIST as uint8 tensors, from the first source that works, loaded once per process.

Sources, in order: a data directory in torchvision's layout (env CNN_DASH_DATA_DIR); Debian's
`dataset-fashion-mnist` package; a bounded torchvision download into a cache directory; the stratified
sample bundled with the package. Every source that is skipped leaves a note saying why.
"""
from __future__ import annotations

import gzip
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from cnn_dash.idx import IdxError, read_idx

DATASETS = ("MNIST", "FashionMNIST")
CLASSES = {
    "MNIST": tuple(str(d) for d in range(10)),
    "FashionMNIST": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                     "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
}
# Per-dataset pixel statistics on the training set (MNIST's are the seed tutorials' 0.1307, 0.3081).
STATS = {"MNIST": (0.1307, 0.3081), "FashionMNIST": (0.2860, 0.3530)}
TITLES = {"MNIST": "MNIST (handwritten digits)", "FashionMNIST": "Fashion-MNIST (clothing)"}

SOURCES = ("data_dir", "debian", "download", "bundled")
SOURCE_LABELS = {"data_dir": "CNN_DASH_DATA_DIR", "debian": "Debian package", "download": "download",
                 "bundled": "bundled sample"}
SAMPLE_DIR = Path(__file__).parent / "sample_data"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
DOWNLOAD_TIMEOUT_S = 10.0
RAW_FILES = {  # split -> (images, labels) as torchvision names them in <root>/<Dataset>/raw
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


class DataSourceError(RuntimeError):
    """A source that cannot give the dataset; the message says which file or step failed."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """One dataset in memory, shared read-only by every session: never modify its tensors."""

    name: str
    classes: tuple[str, ...]
    train_images: torch.Tensor  # uint8 (N, 28, 28)
    train_labels: torch.Tensor  # int64 (N,)
    test_images: torch.Tensor  # uint8 (M, 28, 28)
    test_labels: torch.Tensor  # int64 (M,)
    source: str  # which source, in words a user understands
    source_kind: str  # one of SOURCES
    notes: tuple[str, ...] = field(default=())  # why earlier sources were skipped

    @property
    def mean(self) -> float:
        return STATS[self.name][0]

    @property
    def std(self) -> float:
        return STATS[self.name][1]

    @property
    def size_text(self) -> str:
        """'60,000 train / 10,000 test images'."""
        return f"{len(self.train_labels):,} train / {len(self.test_labels):,} test images"


Stats = tuple[float, float]  # (mean, std) of pixel values in [0, 1]


def input_stats(dataset: str, scaling: str = "standardise") -> Stats:
    """The (mean, std) a model's input is standardised with: the dataset's, or (0, 1) for "divide" (pixel/255)."""
    return STATS[dataset] if scaling == "standardise" else (0.0, 1.0)


def normalize(images: torch.Tensor, stats: Stats | Dataset) -> torch.Tensor:
    """uint8 (B, H, W) -> float32 (B, 1, H, W): pixel/255, minus mean, over std (a Dataset gives its own)."""
    mean, std = (stats.mean, stats.std) if isinstance(stats, Dataset) else stats
    # In place on the fresh float copy: no temporaries on the training loop's hot path.
    return images.unsqueeze(1).float().sub_(255.0 * mean).mul_(1.0 / (255.0 * std))


def cache_dir() -> Path:
    """Where downloaded and unpacked data lives: env CNN_DASH_CACHE_DIR, else ~/.cache/cnn-dash."""
    return Path(os.environ.get("CNN_DASH_CACHE_DIR") or Path.home() / ".cache" / "cnn-dash")


def _check_raw(root: Path, name: str) -> None:
    """Read every raw file's header and size before torchvision does, to name a bad file."""
    for split, files in RAW_FILES.items():
        arrays = [read_idx(root / name / "raw" / f) for f in files]
        if len(arrays[0]) != len(arrays[1]):
            raise DataSourceError(f"{root / name / 'raw'}: {len(arrays[0])} {split} images "
                                  f"but {len(arrays[1])} labels.")


def _from_torchvision(root: Path, name: str) -> tuple[torch.Tensor, ...]:
    """Load both splits through torchvision.datasets from a root in its layout (no download)."""
    import torchvision.datasets as tvd

    try:
        _check_raw(root, name)
    except IdxError as exc:
        raise DataSourceError(str(exc)) from exc
    cls = getattr(tvd, name)
    train, test = (cls(root=str(root), train=t, download=False) for t in (True, False))
    return train.data, train.targets, test.data, test.targets


def _debian(name: str) -> tuple[torch.Tensor, ...]:
    """Debian's dataset-fashion-mnist (gzipped), unpacked once into the cache for torchvision."""
    if name != "FashionMNIST":
        raise DataSourceError("Debian packages only Fashion-MNIST.")
    if not DEBIAN_DIR.is_dir():
        raise DataSourceError(f"{DEBIAN_DIR} does not exist (apt-get install dataset-fashion-mnist).")
    root = cache_dir() / "debian"
    raw = root / name / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for files in RAW_FILES.values():
        for f in files:
            src, dst = DEBIAN_DIR / f"{f}.gz", raw / f
            if not src.is_file():
                raise DataSourceError(f"{src} is missing.")
            if not dst.is_file() or dst.stat().st_mtime < src.stat().st_mtime:
                try:
                    with gzip.open(src, "rb") as fin, open(dst, "wb") as fout:
                        shutil.copyfileobj(fin, fout)
                except (OSError, EOFError) as exc:
                    dst.unlink(missing_ok=True)
                    raise DataSourceError(f"{src} cannot be unpacked ({exc}).") from exc
    return _from_torchvision(root, name)


def _download(name: str, timeout_s: float) -> tuple[torch.Tensor, ...]:
    """A torchvision download into the cache, abandoned after `timeout_s` seconds."""
    root = cache_dir() / "download"
    if (root / name / "raw").is_dir():
        try:
            return _from_torchvision(root, name)
        except DataSourceError:
            pass  # an earlier download is incomplete or damaged: fetch it again
    if os.environ.get("CNN_DASH_DOWNLOAD", "1") == "0":
        raise DataSourceError("downloads are switched off (CNN_DASH_DOWNLOAD=0).")
    import torchvision.datasets as tvd

    outcome: dict[str, BaseException | None] = {}
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="download-", dir=root))

    def fetch() -> None:
        try:
            cls = getattr(tvd, name)
            for train in (True, False):
                cls(root=str(staging), train=train, download=True)
            shutil.rmtree(root / name, ignore_errors=True)
            shutil.move(str(staging / name), str(root / name))
            outcome["error"] = None
        except BaseException as exc:  # noqa: BLE001 - reported to the user as a skipped source
            outcome["error"] = exc
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    # A daemon thread: a hung connection cannot be interrupted, so it is left behind, never waited for.
    start = time.monotonic()
    worker = threading.Thread(target=fetch, name=f"download-{name}", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        raise DataSourceError(f"download gave up after {timeout_s:.0f} s (no answer from the network).")
    if outcome["error"] is not None:
        lines = [ln for ln in str(outcome["error"]).splitlines() if ln.strip()]
        raise DataSourceError(f"download failed after {time.monotonic() - start:.1f} s "
                              f"(no network?): {lines[-1][:160] if lines else outcome['error']!r}")
    return _from_torchvision(root, name)


def _bundled(name: str) -> tuple[torch.Tensor, ...]:
    """The stratified sample shipped with the package (see scripts/make_sample.py)."""
    out = []
    for split in ("train", "test"):
        images = read_idx(SAMPLE_DIR / name / f"{split}-images.xz")
        labels = read_idx(SAMPLE_DIR / name / f"{split}-labels.xz")
        out += [torch.from_numpy(images.copy()), torch.from_numpy(labels.astype("int64"))]
    return tuple(out)


def _describe(kind: str, name: str, data_dir: str | None) -> str:
    """Where the images came from, in words for a visitor: never a path on the server (noise on a projector, and a
    leak on a public server); the Home page's 'Where the data comes from' names the setting to change."""
    full = f"full {'Fashion-MNIST' if name == 'FashionMNIST' else 'MNIST'}"
    return {
        "data_dir": f"{full} in a local folder",
        "debian": f"{full} of a Debian package on the server",
        "download": f"{full}, downloaded once by torchvision and kept on the server",
        "bundled": "bundled stratified sample (1,000 train / 200 test images per class)",
    }[kind]


def _try(kind: str, name: str, data_dir: str | None, timeout_s: float) -> tuple[torch.Tensor, ...]:
    if kind == "data_dir":
        if not data_dir:
            raise DataSourceError("CNN_DASH_DATA_DIR is not set.")
        return _from_torchvision(Path(data_dir), name)
    if kind == "debian":
        return _debian(name)
    if kind == "download":
        return _download(name, timeout_s)
    return _bundled(name)


_cache: dict[tuple, Dataset] = {}
_lock = threading.Lock()


def load_dataset(name: str, source: str | None = None, timeout_s: float = DOWNLOAD_TIMEOUT_S) -> Dataset:
    """The dataset from `source`, or from the first source that works; loaded once per process."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}: choose one of {', '.join(DATASETS)}.")
    if source is not None and source not in SOURCES:
        raise ValueError(f"unknown source {source!r}: choose one of {', '.join(SOURCES)}.")
    key = _key(name, source)
    with _lock:  # one load per key, however many sessions ask at once
        if key not in _cache:
            _cache[key] = _load(name, source, key[2], timeout_s)
        return _cache[key]


def is_loaded(name: str, source: str | None = None) -> bool:
    """Whether `load_dataset` would answer at once, from memory."""
    return _key(name, source) in _cache


def _key(name: str, source: str | None) -> tuple:
    return name, source, os.environ.get("CNN_DASH_DATA_DIR") or None, str(cache_dir())


def _load(name: str, source: str | None, data_dir: str | None, timeout_s: float) -> Dataset:
    notes: list[str] = []
    for kind in (source,) if source else SOURCES:
        try:
            tensors = _try(kind, name, data_dir, timeout_s)
        except (DataSourceError, IdxError, OSError, RuntimeError) as exc:
            if source:
                raise DataSourceError(f"{kind}: {exc}") from exc
            notes.append(f"{SOURCE_LABELS[kind]}: {exc}")
            continue
        train_x, train_y, test_x, test_y = tensors
        return Dataset(name, CLASSES[name], train_x, train_y.long(), test_x, test_y.long(),
                       _describe(kind, name, data_dir), kind, tuple(notes))
    raise DataSourceError("no source could give " + name + ": " + "; ".join(notes))


def clear_cache() -> None:
    """Forget loaded datasets (tests use it to load again with other settings)."""
    with _lock:
        _cache.clear()


def examples(dataset: Dataset, per_class: int = 2, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """`per_class` test images of every class, chosen by `seed`, ordered by class: (images, labels)."""
    order = torch.randperm(len(dataset.test_labels), generator=torch.Generator().manual_seed(seed))
    labels = dataset.test_labels[order]
    picks = torch.cat([order[labels == c][:per_class] for c in range(len(dataset.classes))])
    return dataset.test_images[picks], dataset.test_labels[picks]
