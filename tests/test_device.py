"""A GPU when there is one, checked on a CPU-only machine by monkeypatching what torch sees: the device chosen, and
the inference copies the Evaluation page's metrics and shift curves run on."""
from __future__ import annotations

import torch
from torch import nn

from cnn_dash import device, metrics, shift
from cnn_dash.build import build_model
from cnn_dash.data import load_dataset, normalize
from cnn_dash.presets import PRESETS

CNN = PRESETS["Small CNN (batch norm)"]


def test_the_gpu_is_chosen_when_torch_sees_one(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert device.default_device() == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert device.default_device() == torch.device("cuda")


def test_on_a_cpu_inference_runs_on_a_channels_last_copy():
    model = build_model(CNN).train()
    copy = device.inference_copy(model)
    assert copy is not model and not copy.training and model.training
    weight = next(m.weight for m in copy.modules() if isinstance(m, nn.Conv2d))
    assert weight.is_contiguous(memory_format=torch.channels_last)
    assert next(model.parameters()).is_contiguous()  # the caller's model is left as it was


def test_with_a_gpu_the_metrics_and_the_shift_curve_move_their_copy_there(monkeypatch):
    """torch has no CUDA here: the move is recorded and left undone, so the numbers are the CPU's own."""
    data = load_dataset("MNIST", source="bundled")
    images, labels = data.test_images[:64], data.test_labels[:64]
    torch.manual_seed(0)
    model = build_model(CNN).eval()
    on_cpu = metrics.predict(model, images, data)
    moved = []
    original = nn.Module.to

    def to(self, *args, **kwargs):
        if args and str(args[0]) == "cuda":
            moved.append(type(self).__name__)
            return self
        return original(self, *args, **kwargs)

    monkeypatch.setattr(device, "default_device", lambda: torch.device("cuda"))
    monkeypatch.setattr(nn.Module, "to", to)
    on_gpu = metrics.predict(model, images, data)
    assert moved == ["Sequential"] and (on_gpu.preds == on_cpu.preds).all()
    shift.shift_curve({"cnn": model}, images, labels, lambda b: normalize(b, data), max_shift=1)
    assert moved == ["Sequential"] * 2
