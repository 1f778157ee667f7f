"""Side-by-side training: one loop steps every model on each batch in turn, so they race through the same
batches at the same time, and yields progress records (pytorch/examples mnist's `train()`, for several models).
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Iterator

import torch
import torch._dynamo  # noqa: F401  # every optimizer imports it (1 s): here, not under the import lock mid-run
import torch.nn.functional as F
from torch import nn

from cnn_dash.build import build_model
from cnn_dash.data import Dataset, Stats, input_stats, load_dataset, normalize
from cnn_dash.device import default_device
from cnn_dash.inference import evaluation_set, permute_pixels, pixel_permutation, placed, seeded_stream
from cnn_dash.metrics import EVAL_BATCH, batched_logits
from cnn_dash.records import Progress, Status
from cnn_dash.specs import ModelConfig, NetSpec, OptimizerSpec, TrainSettings, batches_per_epoch

POINTS_PER_EPOCH = 50  # train-curve points per epoch (fewer when an epoch has fewer steps)
EXPLODED = 10.0  # a model whose mean loss between two reports exceeds this many times its first loss blew up
CHANCE = 0.15  # test accuracy at or below this after AT_CHANCE_STEPS steps: the model did not learn (10 classes)
AT_CHANCE_STEPS = 200
_BUILD_LOCK = threading.Lock()  # torch.manual_seed + build is one atomic step, even with runs in parallel


@dataclass(frozen=True, eq=False)
class TrainData:
    """The images a run uses (uint8, CPU): its train subset and the full test set, both permuted if asked."""

    dataset: Dataset
    train_images: torch.Tensor  # (n, 28, 28)
    train_labels: torch.Tensor  # (n,)
    test_images: torch.Tensor  # (M, 28, 28)
    test_labels: torch.Tensor  # (M,)
    permutation: torch.Tensor | None  # (H*W,) pixel order, or None
    stats: Stats  # (mean, std) the inputs are standardised with


def shift_stream(settings: TrainSettings) -> torch.Generator:
    """The random stream of the augmentation's shifts: apart from seeded_stream's four (seed * 4 + salt covers
    every integer below 2**40 + 4 * seed), so turning shifts on changes no subset, weight or batch order."""
    return torch.Generator().manual_seed(2**40 + settings.seed)


def shifted(images: torch.Tensor, offsets: torch.Tensor, permutation: torch.Tensor | None = None) -> torch.Tensor:
    """uint8 images (B, H, W), each moved by its own (dy, dx) row of `offsets` (B, 2): dy rows down, dx columns
    right, uncovered pixels 0 (shift.shift_images, one move per image). Pixel-shuffled images are put back in
    order, moved as a person would see them, and shuffled again."""
    if permutation is not None:
        images = permute_pixels(images, torch.argsort(permutation))
    b, h, w = images.shape
    k = int(offsets.abs().max()) if len(offsets) else 0
    padded = F.pad(images, (k, k, k, k))  # (B, H + 2k, W + 2k)
    rows = torch.arange(h)[None, :] + k - offsets[:, :1]  # (B, H): row r of image i reads padded row r - dy + k
    cols = torch.arange(w)[None, :] + k - offsets[:, 1:]  # (B, W)
    out = padded[torch.arange(b)[:, None, None], rows[:, :, None], cols[:, None, :]]  # (B, H, W)
    return out if permutation is None else permute_pixels(out, permutation)


def prepare_data(settings: TrainSettings, dataset: Dataset | None = None) -> TrainData:
    """The run's train subset (drawn by the seed) and full test set, pixel-permuted if the settings ask."""
    ds = dataset or load_dataset(settings.dataset, source=settings.source)
    n = len(ds.train_labels)
    train_x, train_y = ds.train_images, ds.train_labels  # shared, read-only: copies only where they differ
    if settings.train_subset is not None and settings.train_subset < n:
        pick = torch.randperm(n, generator=seeded_stream(settings.seed, 0))[: settings.train_subset]
        train_x, train_y = train_x[pick], train_y[pick]
    perm = pixel_permutation(settings, train_x[0].numel())
    if perm is not None:
        train_x = permute_pixels(train_x, perm)
    return TrainData(ds, train_x, train_y, *evaluation_set(settings, ds), perm,
                     input_stats(settings.dataset, settings.scaling))


def epoch_orders(settings: TrainSettings, n: int) -> Iterator[torch.Tensor]:
    """The sample order of each epoch: one seeded permutation per epoch, the same for every model."""
    generator = seeded_stream(settings.seed, 2)
    for _ in range(settings.epochs):
        yield torch.randperm(n, generator=generator)


class SeededDropout(nn.Dropout):
    """nn.Dropout drawing from its own generator: the global one is shared with every other thread of the
    server (other runs, summaries being built), which would make the masks, and so the curves, vary."""

    def __init__(self, p: float, generator: torch.Generator):
        super().__init__(p)
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        keep = torch.empty_like(x).bernoulli_(1 - self.p, generator=self.generator)
        return x * keep / (1 - self.p)


def build_seeded(net: NetSpec, seed: int) -> nn.Module:
    """The network initialised from `seed` alone: the same seed gives the same weights, whatever runs beside it."""
    with _BUILD_LOCK:
        torch.manual_seed(seed)
        model = build_model(net)
    for name, child in list(model.named_children()):
        if type(child) is nn.Dropout:  # Dropout2d and others still use the global generator
            setattr(model, name, SeededDropout(child.p, seeded_stream(seed, 3)))
    return model


def make_optimizer(spec: OptimizerSpec, params) -> torch.optim.Optimizer:
    """The torch optimizer a spec names, over `params`."""
    if spec.name == "adam":
        return torch.optim.Adam(params, lr=spec.lr)
    return torch.optim.SGD(params, lr=spec.lr, momentum=spec.momentum)


def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, stats: Stats | Dataset,
             stop: threading.Event | None = None, batch_size: int = EVAL_BATCH) -> tuple[float, float] | None:
    """Mean cross-entropy and accuracy of `model` on uint8 images; None if `stop` is set part-way."""
    logits = batched_logits(model, images, stats, batch_size, stop)  # (N, classes)
    if logits is None:
        return None
    loss = F.cross_entropy(logits, labels, reduction="sum").item()
    return loss / len(labels), (logits.argmax(1) == labels).sum().item() / len(labels)


class _Model:
    """One model in the loop: module, optimizer, learning-rate schedule, and its sums since the last record."""

    def __init__(self, cfg: ModelConfig, module: nn.Module, total_steps: int, decay: bool):
        self.label, self.module = cfg.label, module
        self.optimizer = make_optimizer(cfg.optimizer, module.parameters())
        self.schedule = torch.optim.lr_scheduler.CosineAnnealingLR(self.optimizer, total_steps) if decay else None
        self.status, self.note = Status.TRAINING, ""
        self.steps, self.samples, self.seconds = 0, 0, 0.0  # in all; seconds of this model's own steps
        self.first_loss: float | None = None  # the loss of its first step, at its initial weights
        self.loss_sum, self.correct, self.seen = 0.0, 0, 0  # since the last record (the divergence check)
        self.epoch_loss, self.epoch_correct, self.epoch_seen = 0.0, 0, 0  # over this epoch's images so far

    def step(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """One optimizer step on (x, y); a loss that is not finite marks the model diverged, weights untouched."""
        start = time.perf_counter()
        logits = self.module(x)  # (B, classes)
        loss = F.cross_entropy(logits, y)
        value = loss.item()
        if not math.isfinite(value):
            self.status, self.note = Status.DIVERGED, "its loss became NaN or infinite"
            return
        if self.first_loss is None:
            self.first_loss = value
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        if self.schedule is not None:
            self.schedule.step()
        self.steps, self.samples, self.seen = self.steps + 1, self.samples + len(y), self.seen + len(y)
        correct = int((logits.argmax(1) == y).sum())
        self.loss_sum, self.correct = self.loss_sum + value * len(y), self.correct + correct
        self.epoch_loss, self.epoch_correct = self.epoch_loss + value * len(y), self.epoch_correct + correct
        self.epoch_seen += len(y)
        self.seconds += time.perf_counter() - start

    def new_epoch(self) -> None:
        """Start the running train metrics again: they cover the current epoch's images only."""
        self.epoch_loss, self.epoch_correct, self.epoch_seen = 0.0, 0, 0

    def check(self, test: tuple[float, float] | None) -> None:
        """Mark a blow-up in finite numbers (the mean loss since the last record far above the first loss) as
        divergence, and note a model whose test accuracy is still at chance after many steps."""
        loss = self.loss_sum / self.seen if self.seen else None
        if loss is not None and self.first_loss is not None and loss > EXPLODED * self.first_loss:
            self.status = Status.DIVERGED
            self.note = f"its loss exploded to {loss:,.4g}, over {EXPLODED:g}× its first {self.first_loss:.3g}"
        elif test is not None:  # a note that holds until the next evaluation
            stuck = test[1] <= CHANCE and self.steps >= AT_CHANCE_STEPS
            self.note = (f"its test accuracy is still at chance ({test[1]:.1%}) after {self.steps:,} steps: "
                         f"it is not learning" if stuck else "")

    def record(self, per_epoch: int, total_steps: int, elapsed: float, test: tuple[float, float] | None,
               status: Status) -> Progress:
        """A record: train loss and accuracy over this epoch's images so far (at the epoch's end, over all of
        them, as Keras and the seed tutorials report them); the sums since the previous record start again."""
        seen = self.epoch_seen
        train = (self.epoch_loss / seen, self.epoch_correct / seen) if seen else (None, None)
        self.loss_sum, self.correct, self.seen = 0.0, 0, 0
        speed = self.samples / self.seconds if self.seconds else 0.0
        return Progress(self.label, self.steps, total_steps, self.steps / per_epoch, *train, speed, elapsed,
                        *(test or (None, None)), note=self.note, status=status, train_images=seen)


class Trainer:
    """Trains 1-4 models side by side on the same batches; iterate it once for Progress records.

    Every model takes its step on a batch before any model sees the next one, and the records of all models
    come out together, so at every report they have trained on exactly the same images."""

    def __init__(self, settings: TrainSettings, models: tuple[ModelConfig, ...] | list[ModelConfig], *,
                 data: TrainData | None = None, device: str | None = None, stop: threading.Event | None = None):
        self.settings, self.configs = settings, tuple(models)  # checked against the limits at the door (scheduler)
        self.device = torch.device(device) if device else default_device()
        self.data = data or prepare_data(settings)
        self.modules = {m.label: placed(build_seeded(m.net, settings.seed), self.device)
                        for m in self.configs}
        self._stop = stop or threading.Event()
        self._started = False
        self.steps_per_epoch = batches_per_epoch(len(self.data.train_labels), settings.batch_size)
        self.total_steps = self.steps_per_epoch * settings.epochs
        self.report_every = max(1, self.steps_per_epoch // POINTS_PER_EPOCH)

    def stop(self) -> None:
        """Ask the loop to stop after the current step (or evaluation batch)."""
        self._stop.set()

    def __iter__(self) -> Iterator[Progress]:
        if self._started:
            raise RuntimeError("a Trainer runs once; make a new one to train again")
        self._started = True
        return self._loop()

    def _loop(self) -> Iterator[Progress]:
        s, d, dev = self.settings, self.data, self.device
        models = [_Model(cfg, self.modules[cfg.label], self.total_steps, s.lr_decay) for cfg in self.configs]
        train_x, train_y = d.train_images.to(dev), d.train_labels.to(dev)
        test_x, test_y = d.test_images.to(dev), d.test_labels.to(dev)
        per_epoch, size = self.steps_per_epoch, s.batch_size
        shift_rng = shift_stream(s)
        on_shifted = [s.shift_pixels > 0 and (s.shifted_models is None or i in s.shifted_models)
                      for i in range(len(models))]
        evals = {round(per_epoch * k / s.evals_per_epoch) for k in range(1, s.evals_per_epoch + 1)}
        start = time.perf_counter()

        def report(test_now: bool, last: bool) -> Iterator[Progress]:
            for m in models:
                if m.status is not Status.TRAINING:
                    continue
                test = evaluate(m.module, test_x, test_y, d.stats, self._stop) if test_now else None
                m.check(test)
                if m.status is Status.TRAINING and self._stop.is_set():
                    m.status = Status.STOPPED
                elif m.status is Status.TRAINING and last:
                    m.status = Status.FINISHED
                yield m.record(per_epoch, self.total_steps, time.perf_counter() - start, test, m.status)

        if self._stop.is_set():  # stopped before the first step
            yield from report(False, False)
            return
        step = 0
        for module in self.modules.values():
            module.train()
        for order in epoch_orders(s, len(train_y)):
            order = order.to(dev)
            for m in models:
                m.new_epoch()
            for b in range(per_epoch):
                idx = order[b * size:(b + 1) * size if b < per_epoch - 1 else None]  # the last takes the rest
                x, y = normalize(train_x[idx], d.stats), train_y[idx]  # (B, 1, 28, 28), (B,)
                x_moved = x
                if s.shift_pixels:  # one draw per step, whoever trains on it: every shifted model sees the same
                    offsets = torch.randint(-s.shift_pixels, s.shift_pixels + 1, (len(idx), 2), generator=shift_rng)
                    x_moved = normalize(shifted(train_x[idx].cpu(), offsets, d.permutation).to(dev), d.stats)
                for m, moved in zip(models, on_shifted):
                    if m.status is Status.TRAINING:
                        m.step(x_moved if moved else x, y)
                        if m.status is Status.DIVERGED:  # its last record, at the steps it completed
                            yield m.record(per_epoch, self.total_steps, time.perf_counter() - start, None, m.status)
                step += 1
                at_eval, last = (b + 1) in evals, step == self.total_steps
                if at_eval or last or step % self.report_every == 0 or self._stop.is_set():
                    yield from report(at_eval, last)
                if not any(m.status is Status.TRAINING for m in models):
                    return
