"""A GPU when there is one, checked on a CPU-only machine by monkeypatching what torch sees: the device chosen, and
a run's models for the inference pages placed there."""
from __future__ import annotations

import torch
from torch import nn

from cnn_dash import device, inference
from cnn_dash.registry import RunRegistry
from tests.conftest import wait_for_run
from tests.test_runs import PAIR, TINY


def test_the_gpu_is_chosen_when_torch_sees_one(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert device.default_device() == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert device.default_device() == torch.device("cuda")


def test_with_a_gpu_the_inference_pages_get_the_runs_models_there(scheduler, monkeypatch):
    """torch has no CUDA here: the move is recorded and left undone, so the answers are the CPU's own."""
    run = wait_for_run(RunRegistry(scheduler).start(TINY, PAIR))
    images = run.dataset.test_images[:32]
    on_cpu = {label: inference.logits(model, images, run.settings) for label, model in run.trained_models().items()}
    moved = []
    original = nn.Module.to

    def to(self, *args, **kwargs):
        if args and str(args[0]) == "cuda":
            moved.append(type(self).__name__)
            return self
        return original(self, *args, **kwargs)

    monkeypatch.setattr("cnn_dash.training.default_device", lambda: torch.device("cuda"))
    monkeypatch.setattr(nn.Module, "to", to)
    run.training.history.append(run.history[-1])  # a new weights' version: the models are built again
    models = run.trained_models()
    assert len(moved) == len(PAIR) == len(models)
    for label, model in models.items():
        # the same answers (a CNN on the CPU is channels-last, which may round differently)
        torch.testing.assert_close(inference.logits(model, images, run.settings), on_cpu[label])
