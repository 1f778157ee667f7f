"""Side-by-side training: every model sees the same batches in the same order; progress comes out as records.

One Python thread per model, each with its own share of intra-op threads (torch releases the GIL inside its
kernels); `threads.plan` fixes the shares, and which models train first, before training starts.
"""
from __future__ import annotations

import math
import queue
import threading
import time
from dataclasses import dataclass, replace
from typing import Iterator

import torch
import torch._dynamo  # noqa: F401  # every optimizer imports it (1 s): here, not under the import lock mid-run
import torch.nn.functional as F
from torch import nn

from cnn_dash.data import Dataset, load_dataset, normalize
from cnn_dash.specs import LayerSpec, NetSpec
from cnn_dash.threads import in_fresh_thread, plan

POINTS_PER_EPOCH = 50  # train-curve points per model and epoch (fewer when an epoch has fewer steps)
EVAL_BATCH = 500  # test images per forward pass: larger batches were slower on a CPU (cache misses)
_BUILD_LOCK = threading.Lock()  # torch.manual_seed + build is one atomic step, even with runs in parallel


@dataclass(frozen=True)
class OptimizerSpec:
    """An optimizer: "sgd" with lr and momentum, or "adam" with lr."""

    name: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.0

    def build(self, params) -> torch.optim.Optimizer:
        """The torch optimizer over `params`."""
        if self.name == "adam":
            return torch.optim.Adam(params, lr=self.lr)
        return torch.optim.SGD(params, lr=self.lr, momentum=self.momentum)

    def __str__(self) -> str:
        if self.name == "adam":
            return f"Adam(lr={self.lr:g})"
        return f"SGD(lr={self.lr:g}, momentum={self.momentum:g})"


@dataclass(frozen=True)
class ModelConfig:
    """One model of a run: a unique label, its architecture and its optimizer."""

    label: str
    net: NetSpec
    optimizer: OptimizerSpec = OptimizerSpec()


@dataclass(frozen=True)
class TrainSettings:
    """What a run trains on and how; one seed drives the subset, pixel permutation, init and batch order."""

    dataset: str = "MNIST"
    train_subset: int | None = None  # None: the whole training set
    batch_size: int = 64
    epochs: int = 1
    seed: int = 0
    permute_pixels: bool = False  # one fixed pixel shuffle, the same for train and test images
    evals_per_epoch: int = 1  # test-set evaluations per epoch (the last one at the epoch's end)
    lr_decay: bool = False  # cosine decay of every model's learning rate to 0 over the run
    source: str | None = None  # a data source to force (data.SOURCES), e.g. "bundled" in tests


@dataclass(frozen=True)
class Progress:
    """One model's progress after `step` optimizer steps; test metrics only where the test set was evaluated."""

    label: str
    step: int
    total_steps: int
    epoch: float  # step / steps per epoch
    train_loss: float | None  # mean over the batches since this model's previous record (None: no batch)
    train_acc: float | None
    samples_per_s: float  # this model, since its start
    elapsed_s: float  # this model's wall time since its start
    test_loss: float | None = None
    test_acc: float | None = None
    status: str = "training"  # the last record of a model says how it ended: finished, stopped, diverged


@dataclass(frozen=True)
class ModelResult:
    """How one model ended: status, steps done, the last train interval and the last test evaluation."""

    label: str
    status: str  # "training", "finished", "stopped" or "diverged"
    steps: int
    train_loss: float | None
    train_acc: float | None
    test_loss: float | None
    test_acc: float | None
    diverged_at: int | None  # the step whose loss was NaN or infinite (its update was not applied)
    elapsed_s: float
    samples_per_s: float


@dataclass(frozen=True, eq=False)
class TrainData:
    """The images a run uses (uint8, CPU): its train subset and the full test set, both permuted if asked."""

    dataset: Dataset
    train_images: torch.Tensor  # (n, 28, 28)
    train_labels: torch.Tensor  # (n,)
    test_images: torch.Tensor  # (M, 28, 28)
    test_labels: torch.Tensor  # (M,)
    permutation: torch.Tensor | None  # (H*W,) pixel order, or None


def _generator(seed: int, salt: int) -> torch.Generator:
    """An independent random stream per purpose (0 subset, 1 permutation, 2 batch order, 3 dropout)."""
    return torch.Generator().manual_seed(seed * 4 + salt)


def permute_pixels(images: torch.Tensor, permutation: torch.Tensor) -> torch.Tensor:
    """Images (N, H, W) with their pixels reordered by `permutation` (H*W,)."""
    return images.flatten(1)[:, permutation].view(images.shape)  # (N, H*W) -> (N, H, W)


def pixel_permutation(settings: TrainSettings, pixels: int = 28 * 28) -> torch.Tensor | None:
    """The run's fixed pixel order (drawn by the seed alone), or None when pixels are not shuffled."""
    if not settings.permute_pixels:
        return None
    return torch.randperm(pixels, generator=_generator(settings.seed, 1))


def evaluation_set(settings: TrainSettings, dataset: Dataset | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The full test set as the run sees it: uint8 (M, 28, 28) images, pixel-permuted if asked, and labels."""
    ds = dataset or load_dataset(settings.dataset, source=settings.source)
    perm = pixel_permutation(settings, ds.test_images[0].numel())
    return (ds.test_images if perm is None else permute_pixels(ds.test_images, perm)), ds.test_labels


def prepare_data(settings: TrainSettings, dataset: Dataset | None = None) -> TrainData:
    """The run's train subset (drawn by the seed) and full test set, pixel-permuted if the settings ask."""
    ds = dataset or load_dataset(settings.dataset, source=settings.source)
    n = len(ds.train_labels)
    train_x, train_y = ds.train_images, ds.train_labels  # shared, read-only: copies only where they differ
    if settings.train_subset is not None and settings.train_subset < n:
        pick = torch.randperm(n, generator=_generator(settings.seed, 0))[: settings.train_subset]
        train_x, train_y = train_x[pick], train_y[pick]
    perm = pixel_permutation(settings, train_x[0].numel())
    if perm is not None:
        train_x = permute_pixels(train_x, perm)
    return TrainData(ds, train_x, train_y, *evaluation_set(settings, ds), perm)


def epoch_orders(settings: TrainSettings, n: int) -> Iterator[torch.Tensor]:
    """The sample order of each epoch: one seeded permutation per epoch, the same for every model."""
    generator = _generator(settings.seed, 2)
    for _ in range(settings.epochs):
        yield torch.randperm(n, generator=generator)


class SeededDropout(nn.Dropout):
    """nn.Dropout drawing from its own generator: the global one is shared by every training thread."""

    def __init__(self, p: float, generator: torch.Generator):
        super().__init__(p)
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        keep = torch.empty_like(x).bernoulli_(1 - self.p, generator=self.generator)
        return x * keep / (1 - self.p)


def build_seeded(net: NetSpec, seed: int, device: str | torch.device = "cpu") -> nn.Module:
    """The network initialised from `seed` alone: the same seed gives the same weights, whatever runs beside it."""
    from cnn_dash.build import build_model

    with _BUILD_LOCK:
        torch.manual_seed(seed)
        model = build_model(net)
    model = model.to(device)
    for name, child in list(model.named_children()):
        if type(child) is nn.Dropout:  # Dropout2d and others still use the global generator
            generator = torch.Generator(device=device).manual_seed(seed * 4 + 3)
            setattr(model, name, SeededDropout(child.p, generator))
    return model


@torch.inference_mode()
def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, dataset: Dataset,
             stop: threading.Event | None = None, batch_size: int = EVAL_BATCH) -> tuple[float, float] | None:
    """Mean cross-entropy and accuracy of `model` on uint8 images; None if `stop` is set part-way."""
    was_training = model.training
    model.eval()
    loss_sum, correct = 0.0, 0
    try:
        for start in range(0, len(labels), batch_size):
            if stop is not None and stop.is_set():
                return None
            y = labels[start:start + batch_size]
            logits = model(normalize(images[start:start + batch_size], dataset))  # (B, classes)
            loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
            correct += int((logits.argmax(1) == y).sum())
    finally:
        model.train(was_training)
    return loss_sum / len(labels), correct / len(labels)


def default_device() -> torch.device:
    """A GPU when torch sees one, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def summarize(history: list[Progress]) -> dict[str, ModelResult]:
    """Per model: how it ended, from its records (the last test evaluation, the divergence step)."""
    out: dict[str, ModelResult] = {}
    for label in dict.fromkeys(p.label for p in history):
        records = [p for p in history if p.label == label]
        last = records[-1]
        tested = [p for p in records if p.test_acc is not None]
        trained = [p for p in records if p.train_loss is not None]
        out[label] = ModelResult(
            label, last.status, last.step,
            trained[-1].train_loss if trained else None, trained[-1].train_acc if trained else None,
            tested[-1].test_loss if tested else None, tested[-1].test_acc if tested else None,
            last.step + 1 if last.status == "diverged" else None, last.elapsed_s, last.samples_per_s)
    return out


class Trainer:
    """Trains 1-4 models side by side on the same batches; iterate it once for Progress records."""

    def __init__(self, settings: TrainSettings, models: tuple[ModelConfig, ...] | list[ModelConfig], *,
                 data: TrainData | None = None, threads: int | None = None, device: str | None = None):
        from cnn_dash.limits import check_run

        self.settings, self.configs = settings, tuple(models)
        check_run(settings, self.configs)
        self.device = torch.device(device) if device else default_device()
        self.plan = dict(zip((m.label for m in self.configs),
                             plan([m.net for m in self.configs], threads or torch.get_num_threads())))
        self.data, self.modules = in_fresh_thread(self._prepare, data)
        self._done = {m.label: threading.Event() for m in self.configs}  # set when a model has ended
        self._stop = threading.Event()
        self._started = False
        n = len(self.data.train_labels)
        self.steps_per_epoch = math.ceil(n / settings.batch_size)
        self.total_steps = self.steps_per_epoch * settings.epochs
        self.report_every = max(1, self.steps_per_epoch // POINTS_PER_EPOCH)

    def _prepare(self, data: TrainData | None) -> tuple[TrainData, dict[str, nn.Module]]:
        data = data or prepare_data(self.settings)
        return data, {m.label: build_seeded(m.net, self.settings.seed, self.device) for m in self.configs}

    def stop(self) -> None:
        """Ask every model to stop after its current step (or evaluation batch)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        """True once stop() has been called."""
        return self._stop.is_set()

    def __iter__(self) -> Iterator[Progress]:
        if self._started:
            raise RuntimeError("a Trainer runs once; make a new one to train again")
        self._started = True
        out: queue.SimpleQueue = queue.SimpleQueue()
        workers = [threading.Thread(target=self._work, args=(cfg, out), name=f"train-{cfg.label}", daemon=True)
                   for cfg in self.configs]
        for worker in workers:
            worker.start()
        running, error = len(workers), None
        try:
            while running:
                item = out.get()
                if item is None:
                    running -= 1
                elif isinstance(item, BaseException):
                    error = error or item
                    self._stop.set()
                else:
                    yield item
        finally:
            if running:  # the consumer left early: stop the workers rather than leave them training
                self._stop.set()
            for worker in workers:
                worker.join()
        if error is not None:
            raise error

    def _work(self, cfg: ModelConfig, out: queue.SimpleQueue) -> None:
        phase, threads = self.plan[cfg.label]
        try:
            for label, (other, _) in self.plan.items():
                if other < phase:  # the cheaper phase first (a stop ends it within a step)
                    self._done[label].wait()
            torch.get_num_threads()  # ATen's lazy per-thread init: first, so it cannot later undo the next line
            torch.set_num_threads(threads)  # per OS thread under OpenMP
            for record in self._train(cfg):
                out.put(record)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises it
            out.put(exc)
        finally:
            self._done[cfg.label].set()
            out.put(None)

    def _train(self, cfg: ModelConfig) -> Iterator[Progress]:
        s, d, dev = self.settings, self.data, self.device
        model = self.modules[cfg.label]
        optimizer = cfg.optimizer.build(model.parameters())
        train_x, train_y = d.train_images.to(dev), d.train_labels.to(dev)
        test_x, test_y = d.test_images.to(dev), d.test_labels.to(dev)
        per_epoch = self.steps_per_epoch
        evals = {round(per_epoch * k / s.evals_per_epoch) for k in range(1, s.evals_per_epoch + 1)}
        step, samples, start = 0, 0, time.perf_counter()
        loss_sum, correct, seen = 0.0, torch.zeros((), dtype=torch.int64, device=dev), 0

        def record(status: str, test: tuple[float, float] | None = None) -> Progress:
            nonlocal loss_sum, correct, seen
            elapsed = time.perf_counter() - start
            train = (loss_sum / seen, int(correct) / seen) if seen else (None, None)
            loss_sum, correct, seen = 0.0, torch.zeros_like(correct), 0
            return Progress(cfg.label, step, self.total_steps, step / per_epoch, *train,
                            samples / elapsed if elapsed > 0 else 0.0, elapsed, *(test or (None, None)), status)

        # Each record waits until the next one exists, so the last one can carry the final status even when
        # a stop or a NaN comes right after it: a model's steps are strictly increasing, never repeated.
        pending: Progress | None = None
        status = "finished"
        model.train()
        for b, idx in self._batches(len(train_y)):
            if self._stop.is_set():
                status = "stopped"
                break
            x, y = normalize(train_x[idx], d.dataset), train_y[idx]  # (B, 1, 28, 28), (B,)
            logits = model(x)  # (B, classes)
            loss = F.cross_entropy(logits, y)
            value = loss.item()
            if not math.isfinite(value):  # this update is not applied: the weights stay finite
                status = "diverged"
                break
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if s.lr_decay:
                for group in optimizer.param_groups:  # cosine: lr -> 0 at the last step
                    group["lr"] = cfg.optimizer.lr * 0.5 * (1 + math.cos(math.pi * (step + 1) / self.total_steps))
            step, samples, seen = step + 1, samples + len(y), seen + len(y)
            loss_sum += value * len(y)
            correct += (logits.argmax(1) == y).sum()
            at_eval = (b + 1) in evals
            if at_eval or step % self.report_every == 0:
                test = evaluate(model, test_x, test_y, d.dataset, self._stop) if at_eval else None
                if pending is not None:
                    yield pending
                pending = record("training", test)
        if seen or pending is None:  # steps since the last record (or no record at all): one more
            if pending is not None:
                yield pending
            pending = record(status)
        yield replace(pending, status=status)

    def _batches(self, n: int) -> Iterator[tuple[int, torch.Tensor]]:
        """(index within the epoch, sample indices) of every batch of the run, on the device."""
        size = self.settings.batch_size
        for order in epoch_orders(self.settings, n):
            order = order.to(self.device)
            for b in range(self.steps_per_epoch):
                yield b, order[b * size:(b + 1) * size]


# The classroom preset (issue 5.8), measured in bench/bench_train.py. Stride-2 convolutions instead of
# max-pooling (on a CPU a max-pool over a 28x28 map costs more than a small convolution), batch norm, and a
# cosine-decayed Adam: about 98.8% on MNIST after two epochs, with 9x fewer parameters than its MLP partner.
_L = LayerSpec.of
QUICK_DEMO_CNN = NetSpec(
    "Quick-demo CNN",
    (
        _L("Conv2d", out_channels=8, kernel_size=5, stride=2, padding=2),  # (8, 14, 14)
        _L("BatchNorm2d"),
        _L("ReLU"),
        _L("Conv2d", out_channels=16, kernel_size=5, stride=2, padding=2),  # (16, 7, 7)
        _L("BatchNorm2d"),
        _L("ReLU"),
        _L("Flatten"),  # (784,)
        _L("Linear", out_features=10),
    ),
    description="Two stride-2 5×5 convolutions (8, 16 channels) with batch norm, then Linear 784→10: "
                "11,322 parameters, fast on a CPU.",
)


def quick_demo(dataset: str = "MNIST") -> tuple[TrainSettings, tuple[ModelConfig, ...]]:
    """The classroom preset: all of MNIST, the quick-demo CNN beside a one-hidden-layer MLP, both with Adam."""
    from cnn_dash.presets import PRESETS

    settings = TrainSettings(dataset=dataset, batch_size=128, epochs=2, seed=0, evals_per_epoch=2, lr_decay=True)
    return settings, (
        ModelConfig("A · Quick-demo CNN (Adam)", QUICK_DEMO_CNN, OptimizerSpec("adam", 0.004)),
        ModelConfig("B · MLP 784-128-10 (Adam)", PRESETS["MLP 784-128-10"], OptimizerSpec("adam", 0.002)),
    )
