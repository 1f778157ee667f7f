"""Summaries against torch (forward hooks, parameter counts), torchinfo itself, and the seed notebook's printout."""
from __future__ import annotations

import gc
import math
import weakref
from dataclasses import replace

import pytest
import torch
import torchinfo
import torchinfo.torchinfo as torchinfo_module
from torch import nn

import cnn_dash.summary as summary_module
from cnn_dash.build import build_model
from cnn_dash.plots.params import params_frame, params_per_layer_figure
from cnn_dash.presets import PRESETS
from cnn_dash.shapes import ShapeError
from cnn_dash.specs import LayerSpec, NetSpec
from cnn_dash.summary import compare, summarize, summary_frame, totals_frame

def forward_shapes(model: nn.Module, input_shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    shapes: list[tuple[int, ...]] = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: shapes.append(tuple(out.shape))) for m in model]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(input_shape))
    for h in hooks:
        h.remove()
    return shapes


@pytest.mark.parametrize("name", list(PRESETS))
def test_rows_match_a_real_forward_pass_and_parameter_counts(name: str) -> None:
    net = PRESETS[name]
    s = summarize(net, batch_size=3)
    model = build_model(net)
    assert [r.output_shape for r in s.rows] == forward_shapes(model, (3, *net.input_shape))
    assert [r.params for r in s.rows] == [sum(p.numel() for p in m.parameters()) for m in model]
    assert [r.type for r in s.rows] == [type(m).__name__ for m in model]
    assert s.total_params == s.trainable_params == sum(p.numel() for p in model.parameters())
    assert sum(r.params_percent for r in s.rows) == pytest.approx(100.0)


@pytest.mark.parametrize("batch_size", [1, 7])
@pytest.mark.parametrize("name", list(PRESETS))
def test_totals_equal_torchinfo_model_statistics(name: str, batch_size: int) -> None:
    # summarize() runs torchinfo on one image and scales by the batch; the oracle runs the real batch.
    net = PRESETS[name]
    s = summarize(net, batch_size)
    stats = torchinfo.summary(build_model(net), input_size=(batch_size, *net.input_shape), device="cpu", verbose=0)
    torchinfo_module.clear_cached_forward_pass()
    assert (s.total_params, s.trainable_params, s.total_mult_adds) == (
        stats.total_params,
        stats.trainable_params,
        stats.total_mult_adds,
    )
    assert (s.input_bytes, s.forward_backward_bytes, s.params_bytes) == (
        stats.total_input,
        stats.total_output_bytes,
        stats.total_param_bytes,
    )
    assert s.total_mb == (stats.total_input + stats.total_output_bytes + stats.total_param_bytes) / 1e6
    leaves = [info for info in stats.summary_list if info.depth > 0]
    assert [r.mult_adds for r in s.rows] == [info.macs for info in leaves]
    assert [list(r.output_shape) for r in s.rows] == [info.output_size for info in leaves]


def test_seed_notebook_printout_at_batch_64() -> None:
    conv = summarize(PRESETS["ConvNet (CNN notebook)"], batch_size=64)
    assert [r.output_shape for r in conv.rows] == [
        (64, 16, 28, 28), (64, 16, 14, 14), (64, 32, 12, 12), (64, 32, 7, 7),
        (64, 64, 7, 7), (64, 4, 3, 3), (64, 36), (64, 10),
    ]
    assert [r.params for r in conv.rows] == [160, 0, 4640, 0, 2112, 6404, 0, 370]
    assert conv.rows[0].name == "Conv2d: 1-1" and conv.rows[0].kernel == "3×3"
    assert conv.rows[-1].kernel == ""
    # The notebook prints input 0.20, forward/backward 10.41, params 0.05, total 10.67 MB: torchinfo 1.8 agrees.
    assert round(conv.input_mb, 2) == 0.20
    assert (round(conv.forward_backward_mb, 2), round(conv.params_mb, 2), round(conv.total_mb, 2)) == (
        10.41, 0.05, 10.67,
    )
    # Its "Total mult-adds (M): 0.93" came from an older torchinfo that counted one image and weights only
    # (934,760); 1.8 counts biases and the whole batch. Per image and layer: weights+bias times output positions.
    per_image = 160 * 28 * 28 + 4640 * 12 * 12 + 2112 * 7 * 7 + 6404 * 3 * 3 + 370
    assert conv.total_mult_adds == 64 * per_image
    assert all(r.output_shape[0] == 64 for r in conv.rows)
    fc = summarize(PRESETS["FCNet (CNN notebook)"], batch_size=64)
    assert [r.params for r in fc.rows if r.params] == [12_560, 170]
    assert (round(fc.forward_backward_mb, 2), round(fc.params_mb, 2)) == (0.01, 0.05)
    # (Its total 0.26 MB reads 0.27 here: torchinfo 1.8 adds 64 bytes of tensor overhead to the input size,
    # and 0.264936 MB becomes 0.265000.)


def test_compare_ratios() -> None:
    conv = summarize(PRESETS["ConvNet (CNN notebook)"])
    fc = summarize(PRESETS["FCNet (CNN notebook)"])
    ratios = compare(conv, fc)
    assert ratios["params"] == 13_686 / 12_730
    assert ratios["mult_adds"] == conv.total_mult_adds / fc.total_mult_adds
    assert set(ratios) == {"params", "trainable", "mult_adds", "forward_backward_mb", "params_mb", "total_mb"}
    empty = replace(fc, total_params=0, trainable_params=0)
    assert math.isinf(compare(fc, empty)["params"]) and math.isnan(compare(empty, empty)["params"])


def test_frames_and_figure() -> None:
    conv = summarize(PRESETS["ConvNet (CNN notebook)"])
    fc = summarize(PRESETS["FCNet (CNN notebook)"])
    frame = summary_frame(conv)
    assert list(frame["Params"]) == [r.params for r in conv.rows] and len(frame) == 8
    assert list(totals_frame(conv)["Value"])[0] == "13,686"
    layers = params_frame({"CNN": conv, "FC": fc})
    assert layers.groupby("Model")["Params"].sum().to_dict() == {"CNN": 13_686, "FC": 12_730}
    fig = params_per_layer_figure(conv, fc, labels=("CNN", "FC"))
    assert sum(sum(trace.y) for trace in fig.data) == 13_686 + 12_730
    same = params_per_layer_figure(conv, conv)  # the same model twice still shows both
    assert sum(sum(trace.y) for trace in same.data) == 2 * 13_686


def test_batch_and_input_size_are_inputs() -> None:
    net = replace(PRESETS["LeNet-5"], input_shape=(1, 32, 32))
    s = summarize(net, batch_size=5)
    assert s.input_shape == (5, 1, 32, 32)
    assert s.rows[-1].output_shape == (5, 10)
    assert s.total_params == sum(p.numel() for p in build_model(net).parameters())


def test_bad_batch_size_is_refused() -> None:
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="batch size"):
            summarize(PRESETS["MLP 784-128-10"], bad)


def test_invalid_stack_raises_shape_error_not_torch_error() -> None:
    bad = NetSpec("bad", (LayerSpec.of("Conv2d", out_channels=4, kernel_size=40),))
    with pytest.raises(ShapeError):
        summarize(bad)
    assert not torchinfo_module._cached_forward_pass


def test_summaries_do_not_keep_models_alive_or_leave_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[weakref.ref] = []
    devices: set[str] = set()

    def tracked_build(net: NetSpec) -> nn.Module:
        model = build_model(net)
        built.append(weakref.ref(model))
        return model

    real_summary = torchinfo.summary

    def checked_summary(model: nn.Module, **kwargs):
        stats = real_summary(model, **kwargs)
        devices.update(p.device.type for p in model.parameters())
        return stats

    monkeypatch.setattr(summary_module, "build_model", tracked_build)
    monkeypatch.setattr(summary_module.torchinfo, "summary", checked_summary)
    for width in range(1, 31):  # 30 distinct specs, so none comes from the lru cache
        net = NetSpec(f"mlp{width}", (LayerSpec.of("Flatten"), LayerSpec.of("Linear", out_features=width)))
        summarize(net)
    gc.collect()
    assert len(built) == 30
    assert all(ref() is None for ref in built)  # nothing (torchinfo's cache included) holds a model
    assert torchinfo_module._cached_forward_pass == {}
    assert devices == {"cpu"}


def test_torchinfo_would_leak_without_clearing() -> None:
    # The leak the summary guards against is real: torchinfo keeps the last model of each class name.
    model = build_model(PRESETS["FCNet (CNN notebook)"])
    ref = weakref.ref(model)
    torchinfo.summary(model, input_size=(1, 1, 28, 28), device="cpu", verbose=0)
    del model
    gc.collect()
    try:
        assert ref() is not None
    finally:
        torchinfo_module.clear_cached_forward_pass()
    gc.collect()
    assert ref() is None


def test_a_locally_connected_net_costs_what_the_convolution_with_its_windows_costs():
    """torchinfo cannot count LocallyConnected2d; our count is checked against torchinfo's own count of the
    convolution with the same windows (each position's kernel does the work the shared kernel does there)."""
    from cnn_dash.presets import PRESETS
    from cnn_dash.summary import cost_frame, macs_note

    local = summarize(PRESETS["Small locally connected net (batch norm)"])
    cnn = summarize(PRESETS["Small CNN (batch norm)"])
    assert [r.mult_adds for r in local.rows] == [r.mult_adds for r in cnn.rows]
    assert local.total_mult_adds == cnn.total_mult_adds == 206_250
    assert local.total_params == 206_250 and cnn.total_params == 11_322
    assert "torchinfo cannot count" in macs_note(local) and macs_note(cnn) is None
    frame = cost_frame((cnn, local))
    assert list(frame["Multiply-adds per image"]) == [206_250, 206_250]
    assert list(frame["Parameters (× the first)"]) == [1.0, round(206_250 / 11_322, 2)]
    assert summarize(PRESETS["Small locally connected net (batch norm)"], batch_size=8).total_mult_adds == 8 * 206_250
