"""Training throughput, side by side in one run on one machine, and the quick-demo preset.

    python3 -m bench.bench_train [--images 20000] [--repeat 1] [--demo-images N]

Prints samples/s (training samples summed over both models, one test pass per model included) of
  (a)  the engine (cnn_dash.train.Trainer: one loop stepping each model on every batch in turn, with the
       records, divergence checks and evaluations a page gets);
  (b1) a bare hand-written loop over preloaded tensors, the same models and batches, one thread
       alternating the models batch by batch with torch's default intra-op threads;
  (b2) the same bare loop, one thread per model with one intra-op thread each;
  (c)  the seed notebook's style: a torchvision dataset with ToTensor through a DataLoader, the models
       trained one after the other;
  (s)  the engine as the server runs it, saving to the run store (cnn_dash.store, SQLite in a temporary
       folder): the records every 2 s, the status, the final weights;
then the ratios a/b1, a/b2 and a/b against the faster bare loop (aim >= 0.95), a/c (aim >= 2.0), and s/b and
s/a (the store's cost: aim s/b >= 0.95); the time to save a finished run to the store and to load it back
(records, weights, models rebuilt);
finally the quick-demo preset on the full MNIST in a fresh process: wall time, test accuracy of each model
and the process's peak memory (aims: CNN >= 98.5% within 10 s, peak < 1 GiB).
Set CNN_DASH_DATA_DIR (default: ../shared/datasets when present) for the full datasets. --demo-images trains the
quick demo on fewer images (the smoke test's tiny size; its aims then mean nothing).
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "datasets"
if "CNN_DASH_DATA_DIR" not in os.environ and SHARED.is_dir():
    os.environ["CNN_DASH_DATA_DIR"] = str(SHARED)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from cnn_dash.data import load_dataset, normalize  # noqa: E402
from cnn_dash.library import Library  # noqa: E402
from cnn_dash.runs import Run  # noqa: E402
from cnn_dash.scheduler import train_run  # noqa: E402
from cnn_dash.store import RunStore  # noqa: E402
from cnn_dash.presets import PRESETS  # noqa: E402
from cnn_dash.specs import ModelConfig, OptimizerSpec, TrainSettings  # noqa: E402
from cnn_dash.presets import quick_demo  # noqa: E402
from cnn_dash.train import (Trainer, build_seeded, epoch_orders, evaluate, make_optimizer,  # noqa: E402
                            prepare_data)

# The seed notebook's comparison: its ConvNet (with ReLU) and FCNet, SGD lr 0.001 momentum 0.9, batch 64.
SGD = OptimizerSpec("sgd", 0.001, 0.9)
MODELS = (ModelConfig("CNN", PRESETS["ConvNet + ReLU (CNN notebook)"], SGD),
          ModelConfig("FC", PRESETS["FCNet (CNN notebook)"], SGD))


def engine(settings: TrainSettings) -> float:
    trainer = Trainer(settings, MODELS)
    start = time.perf_counter()
    for _ in trainer:
        pass
    return time.perf_counter() - start


def engine_with_store(settings: TrainSettings) -> float:
    """The engine as a server runs it (cnn_dash.scheduler.train_run), saving the run to a fresh store."""
    load_dataset(settings.dataset)  # loaded before the clock starts, as for (a)
    with tempfile.TemporaryDirectory() as folder:
        store = RunStore(folder)
        run = Run(settings, MODELS, owner="bench", store=store)
        store.create(run.stored_record())
        start = time.perf_counter()
        train_run(run.training)  # the training every watcher of the run shows
        seconds = time.perf_counter() - start
        assert run.status == "finished" and store.problem is None, (run.status, run.error, store.problem)
        return seconds


def store_costs(settings: TrainSettings) -> None:
    """Time saving a finished run to the store (every record and the weights) and loading it back in a new
    library, as a restarted server does, to models ready to evaluate."""
    with tempfile.TemporaryDirectory() as folder:
        token = "b" * 43
        library = Library(RunStore(folder))
        run = library.registry(token).start(settings, MODELS)
        while run.active:
            time.sleep(0.05)
        fresh = Library(RunStore(folder)).store
        start = time.perf_counter()
        fresh.create(run.stored_record())
        fresh.update(run.id, status=str(run.status), error=None, started_at=run.started_at, ended_at=run.ended_at,
                     records=enumerate(run.history))
        fresh.save_weights(run.id, run.weights_bytes())
        saved = time.perf_counter() - start
        start = time.perf_counter()
        (back,) = Library(RunStore(folder)).registry(token).runs()
        models = back.trained_models()
        loaded = time.perf_counter() - start
        params = sum(p.numel() for model in models.values() for p in model.parameters())
        print(f"store: a finished run of {len(back.history)} records and {params:,} parameters "
              f"({fresh.size() / 1024:,.0f} KiB) saved in {saved * 1000:.0f} ms, loaded back (records, weights, "
              f"models rebuilt) in {loaded * 1000:.0f} ms")


def _bare_steps(models, optimizers, data, settings) -> None:
    """The loop body of pytorch/examples mnist, over preloaded uint8 tensors."""
    x_all, y_all = data.train_images, data.train_labels
    for order in epoch_orders(settings, len(y_all)):
        for i in range(0, len(y_all), settings.batch_size):
            idx = order[i:i + settings.batch_size]
            x, y = normalize(x_all[idx], data.stats), y_all[idx]
            for model, optimizer in zip(models, optimizers):
                loss = F.cross_entropy(model(x), y)
                loss.item()  # the notebook's running loss (and the engine's NaN check)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
    for model in models:
        evaluate(model, data.test_images, data.test_labels, data.stats)


def bare(settings: TrainSettings, threaded: bool) -> float:
    data = prepare_data(settings)
    models = [build_seeded(m.net, settings.seed) for m in MODELS]
    optimizers = [make_optimizer(m.optimizer, model.parameters()) for m, model in zip(MODELS, models)]
    start = time.perf_counter()
    if not threaded:
        _bare_steps(models, optimizers, data, settings)
    else:
        def one(i: int) -> None:
            torch.set_num_threads(1)
            _bare_steps([models[i]], [optimizers[i]], data, settings)

        workers = [threading.Thread(target=one, args=(i,)) for i in range(len(models))]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    return time.perf_counter() - start


class PerSample(torch.utils.data.Dataset):
    """torchvision.datasets.MNIST's __getitem__ (uint8 -> PIL -> transform) over tensors already loaded."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, transform):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        from PIL import Image

        return self.transform(Image.fromarray(self.images[i].numpy(), mode="L")), int(self.labels[i])


def notebook(settings: TrainSettings) -> float:
    """The seed notebook's loop: ToTensor per sample, a DataLoader, each model trained in turn."""
    from torchvision import transforms

    data = prepare_data(settings)
    to_tensor = transforms.ToTensor()
    train = PerSample(data.train_images, data.train_labels, to_tensor)
    test = PerSample(data.test_images, data.test_labels, to_tensor)
    loader = torch.utils.data.DataLoader(train, batch_size=settings.batch_size, shuffle=True)
    test_loader = torch.utils.data.DataLoader(test, batch_size=1000)
    start = time.perf_counter()
    for m in MODELS:
        model = build_seeded(m.net, settings.seed)
        optimizer = make_optimizer(m.optimizer, model.parameters())
        for _ in range(settings.epochs):
            for x, y in loader:
                loss = F.cross_entropy(model(x), y)
                loss.item()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        with torch.no_grad():
            for x, y in test_loader:
                F.cross_entropy(model(x), y).item()
    return time.perf_counter() - start


VARIANTS = {
    "(a)  engine": engine,
    "(b1) bare loop, one thread, models in turn": lambda settings: bare(settings, threaded=False),
    "(b2) bare loop, one thread per model": lambda settings: bare(settings, threaded=True),
    "(c)  notebook style: ToTensor + DataLoader": notebook,
    "(s)  engine saving to the run store": engine_with_store,
}


def run_quick_demo(images: int | None = None) -> None:
    """The preset exactly as the page starts it (data loading timed apart), in this process; on `images` training
    images if given."""
    import torchvision.datasets  # noqa: F401 - the data layer reads the files through it

    imported = peak_rss_mib()
    settings, models = quick_demo()
    if images:
        settings = replace(settings, train_subset=images)
    start = time.perf_counter()
    dataset = load_dataset(settings.dataset)
    loaded = time.perf_counter() - start
    start = time.perf_counter()
    trainer = Trainer(settings, models)
    c0 = time.process_time()
    history = list(trainer)
    wall, cpu = time.perf_counter() - start, time.process_time() - c0
    images = min(settings.train_subset or len(dataset.train_labels), len(dataset.train_labels))
    print(f"quick demo: {images:,} of {len(dataset.train_labels):,} train images from the {dataset.source} "
          f"(loaded in {loaded:.1f} s), {settings.epochs} epochs, batch {settings.batch_size}")
    for label in (m.label for m in models):
        records = [p for p in history if p.label == label]
        tested = [p for p in records if p.test_acc is not None]
        reached = next((p for p in tested if p.test_acc >= 0.985), None)
        print(f"  {label:32s} test accuracy {tested[-1].test_acc:.2%} after {records[-1].elapsed_s:.1f} s"
              + (f" (98.5% first seen at epoch {reached.epoch:.1f}, {reached.elapsed_s:.1f} s)" if reached else ""))
    print(f"  wall time for the run (both models, all evaluations): {wall:.1f} s, {cpu:.1f} CPU-s  "
          f"[aim: CNN >= 98.5% within 10 s]  (load average {os.getloadavg()[0]:.1f})")
    print(f"  peak memory of this process: {peak_rss_mib():.0f} MiB (of which importing torch and torchvision: "
          f"{imported:.0f} MiB) [aim < 1024 MiB]")


def peak_rss_mib() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries ru_maxrss over an exec from
    the forked parent, which would charge the benchmark's own memory to the quick demo."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=20_000, help="training images for (a), (b), (c)")
    parser.add_argument("--repeat", type=int, default=1, help="best of this many timings each")
    parser.add_argument("--demo-images", type=int, default=0, help="the quick demo's training images (default: "
                                                                    "the preset's)")
    parser.add_argument("--quick-demo-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick_demo_only:
        run_quick_demo(args.demo_images)
        return
    settings = TrainSettings(train_subset=args.images, batch_size=64, epochs=1, seed=0)
    if args.variant:  # one timing in this fresh process, as "wall cpu" for the parent
        torch.set_num_threads(os.cpu_count() or 1)
        c0 = time.process_time()
        seconds = VARIANTS[args.variant](settings)
        print(f"{seconds} {time.process_time() - c0}")
        return
    dataset = load_dataset(settings.dataset)
    n_models = len(MODELS)
    work = n_models * (args.images + len(dataset.test_labels))  # samples through some model: train + one test pass
    print(f"{os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} intra-op threads, "
          f"load average {os.getloadavg()[0]:.1f}; {dataset.name} from the {dataset.source}")
    print(f"models: {', '.join(f'{m.label} = {m.net.name} {m.optimizer}' for m in MODELS)}; "
          f"{args.images:,} training images, batch 64, 1 epoch, then one pass over {len(dataset.test_labels):,} "
          f"test images each")
    # Each timing runs in a fresh process: OpenMP keeps a team of worker threads for every thread that ran
    # a parallel region, and an earlier variant's idle team slowed a later one by up to 1.7x in one process.
    # Repeats are interleaved (a, b1, b2, c, a, ...) so that a burst of load elsewhere hits every variant;
    # CPU seconds (all threads of the process) are printed too: on a shared machine they vary far less.
    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for _ in range(args.repeat):
        for name in VARIANTS:
            out = subprocess.run([sys.executable, __file__, "--images", str(args.images), "--variant", name],
                                 check=True, capture_output=True, text=True).stdout.split()
            seconds, used = float(out[-2]), float(out[-1])
            wall[name], cpu[name] = min(wall.get(name, seconds), seconds), min(cpu.get(name, used), used)
    for name in VARIANTS:
        print(f"{name:46s} {wall[name]:6.2f} s  {work / wall[name]:8.0f} samples/s   "
              f"({cpu[name]:6.2f} CPU-s, {work / cpu[name]:6.0f} samples per CPU-s)")
    rate = {name[:4].strip(): work / wall[name] for name in VARIANTS}
    a, b = rate["(a)"], max(rate["(b1)"], rate["(b2)"])
    print(f"a/b1 = {a / rate['(b1)']:.2f}   a/b2 = {a / rate['(b2)']:.2f}   "
          f"a/b = {a / b:.2f} against the faster bare loop  [aim >= 0.95]")
    print(f"a/c  = {a / rate['(c)']:.2f}   [aim >= 2.0]")
    print(f"s/b  = {rate['(s)'] / b:.2f}   s/a = {rate['(s)'] / a:.2f}   (the run store's cost)  [aim s/b >= 0.95]")
    store_costs(settings)
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    subprocess.run([sys.executable, __file__, "--quick-demo-only", "--demo-images", str(args.demo_images)],
                   check=True)


if __name__ == "__main__":
    main()
