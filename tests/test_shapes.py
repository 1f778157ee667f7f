"""The shape calculator against torch itself: seeded random layers, identical shapes or a rejection on both sides."""
from __future__ import annotations

import random
import sys
import warnings
from collections import Counter

import pytest
import torch
from torch import nn

from cnn_dash.layers import layer_class
from cnn_dash.shapes import (LAYER_TYPES, MAX_LAYERS, ShapeError, SPATIAL_DIMS, output_shape, pool_output_size,
                             resolve, trace)
from cnn_dash.specs import LayerSpec, NetSpec

CONFIGS_PER_TYPE = 5000
TORCH_ERRORS = (RuntimeError, ValueError, TypeError, IndexError)


def torch_shape(layer: LayerSpec, in_shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """The oracle: torch's output shape on a batch of one (batch left out), or None where torch raises."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = layer_class(layer.type)(**layer.kwargs()).eval()
            y = module(torch.zeros((1, *in_shape)))
    except TORCH_ERRORS:
        return None
    return tuple(y[0].shape[1:]) if isinstance(y, tuple) else tuple(y.shape[1:])


def ours(layer: LayerSpec, in_shape: tuple[int, ...]) -> tuple[int, ...] | None:
    try:
        return output_shape(layer, in_shape)
    except ShapeError as e:
        assert str(e), "a rejection must say why"
        return None


def traced(layer: LayerSpec, in_shape: tuple[int, ...]) -> tuple[int, ...] | None:
    try:
        return trace(NetSpec("one layer", (layer,), in_shape))[0].out_shape
    except ShapeError:
        return None


def deliberately_stricter(layer: LayerSpec, in_shape: tuple[int, ...], torch_out: tuple[int, ...]) -> bool:
    """Configurations torch runs but the calculator refuses on purpose, each for a reason a student should hear."""
    kw = layer.kwargs()
    if 0 in torch_out:  # an empty tensor: nothing left to classify
        return True
    minimum = dict(kernel_size=1, stride=1, dilation=1, padding=0, output_padding=0)
    if any(isinstance(v, int) and v < minimum[k] for k in minimum for v in _flat(kw.get(k))):
        return True  # e.g. negative padding crops with padding_mode='reflect'; dilation 0 passes some kernels
    pad = kw.get("padding")
    if kw.get("padding_mode", "zeros") != "zeros" and isinstance(pad, tuple) and len(pad) != SPATIAL_DIMS[layer.type]:
        return True  # torch would pad the wrong dimensions, the channels among them
    if kw.get("return_indices"):  # a (values, indices) pair that nn.Sequential cannot pass on
        return True
    if layer.type == "Flatten":  # start_dim 0 merges the batch into the features
        ndim = len(in_shape) + 1
        start, end = (kw.get("start_dim", 1), kw.get("end_dim", -1))
        return -ndim <= start < ndim and -ndim <= end < ndim and start % ndim == 0 and end % ndim > 0
    return False


def _flat(value) -> list:
    return list(value) if isinstance(value, (tuple, list)) else [value]


# ---- random configurations, small enough that torch answers in microseconds ----

def _size(r: random.Random, lo: int, hi: int, bad: float = 0.04) -> int:
    return r.choice([-1, 0]) if r.random() < bad else r.randint(lo, hi)


def _per_dim(r: random.Random, n: int, lo: int, hi: int, bad: float = 0.04, one_tuple: bool = False):
    if r.random() < 0.6:
        return _size(r, lo, hi, bad)
    length = n if not one_tuple or r.random() < 0.8 else 1
    if r.random() < 0.03:
        length = n + r.choice([-1, 1]) if n > 1 else 2
    return tuple(_size(r, lo, hi, bad) for _ in range(length))


def _image(r: random.Random, rank: int, channels: int, hi: int = 9) -> tuple[int, ...]:
    return (channels, *(r.randint(1, hi) for _ in range(rank - 1)))


def gen_conv(r: random.Random, kind: str) -> tuple[LayerSpec, tuple[int, ...]]:
    n = SPATIAL_DIMS[kind]
    groups = r.choice([1, 1, 1, 2, 3]) if r.random() > 0.02 else 0
    c = max(groups, 1) * r.choice([1, 2]) if r.random() < 0.7 else r.choice([1, 2, 3, 4, 6])
    shape = _image(r, n + 1, c, hi=6 if n == 3 else 9)
    kw = dict(in_channels=c if r.random() > 0.05 else c + 1, out_channels=_size(r, 1, 6, 0.02) * max(groups, 1),
              kernel_size=_per_dim(r, n, 1, 5), stride=_per_dim(r, n, 1, 3), dilation=_per_dim(r, n, 1, 3),
              groups=groups, bias=r.random() < 0.5)
    kw["padding"] = r.choice(["same", "same", "valid", "full"]) if r.random() < 0.15 else _per_dim(r, n, 0, 3, 0.05)
    if r.random() < 0.3:
        kw["padding_mode"] = r.choice(["reflect", "replicate", "circular", "zeros", "mirror"])
    if kind == "ConvTranspose2d":
        kw["output_padding"] = _per_dim(r, n, 0, 3, 0.03)
        if kw.get("padding_mode") and r.random() < 0.8:
            kw.pop("padding_mode")
    return LayerSpec.of(kind, **kw), shape


def gen_local(r: random.Random, kind: str) -> tuple[LayerSpec, tuple[int, ...]]:
    """A locally connected layer: a Conv2d's windows, its in_size given (right or wrong) or left to be inferred."""
    shape = _image(r, 3, r.choice([1, 2, 3]))
    kw = dict(in_channels=shape[0] if r.random() > 0.05 else shape[0] + 1, out_channels=_size(r, 1, 4, 0.02),
              kernel_size=_per_dim(r, 2, 1, 5), stride=_per_dim(r, 2, 1, 3), dilation=_per_dim(r, 2, 1, 3),
              padding=_per_dim(r, 2, 0, 3, 0.05), bias=r.random() < 0.5)
    # torch's oracle is the module itself, which needs in_size: usually the input's, sometimes a wrong one
    kw["in_size"] = shape[1:] if r.random() < 0.9 else (shape[1] + 1, shape[2])
    return LayerSpec.of(kind, **kw), shape


def gen_pool(r: random.Random, kind: str) -> tuple[LayerSpec, tuple[int, ...]]:
    kw = dict(kernel_size=_per_dim(r, 2, 1, 5, one_tuple=True), padding=_per_dim(r, 2, 0, 2, one_tuple=True),
              ceil_mode=r.random() < 0.5)
    if r.random() < 0.7:
        kw["stride"] = _per_dim(r, 2, 1, 4, one_tuple=True)
    if kind == "MaxPool2d":
        kw["dilation"] = _per_dim(r, 2, 1, 3, 0.03, one_tuple=True)
        kw["return_indices"] = r.random() < 0.02
    else:
        kw["count_include_pad"] = r.random() < 0.5
        kw["divisor_override"] = r.choice([None, None, None, 1, 2, 0, -1])
    return LayerSpec.of(kind, **kw), _image(r, 3, r.randint(1, 3), hi=11)


def gen_adaptive(r: random.Random, kind: str) -> tuple[LayerSpec, tuple[int, ...]]:
    size = r.choice([-1, 0, None, *range(1, 9)])
    if r.random() < 0.6:
        size = tuple(r.choice([None, 0, *range(1, 9)]) for _ in range(r.choice([2, 2, 2, 2, 1, 3])))
    return LayerSpec.of(kind, output_size=size), _image(r, 3, r.randint(1, 3), hi=11)


def gen_flatten(r: random.Random, kind: str) -> tuple[LayerSpec, tuple[int, ...]]:
    kw = {name: r.randint(-6, 5) for name in ("start_dim", "end_dim") if r.random() < 0.8}
    return LayerSpec.of(kind, **kw), _image(r, r.randint(1, 4), r.randint(1, 4), hi=5)


def gen_linear(r: random.Random, kind: str) -> tuple[LayerSpec, tuple[int, ...]]:
    shape = _image(r, r.randint(1, 3), r.randint(1, 6), hi=6)
    in_f = shape[-1] if r.random() < 0.85 else r.randint(1, 7)
    return LayerSpec.of(kind, in_features=in_f, out_features=_size(r, 1, 6, 0.05), bias=r.random() < 0.5), shape


def gen_norm(r: random.Random, kind: str) -> tuple[LayerSpec, tuple[int, ...]]:
    shape = _image(r, r.randint(1, 4), r.randint(1, 5), hi=5)
    feats = shape[0] if r.random() < 0.8 else r.randint(1, 6)
    return LayerSpec.of(kind, num_features=feats, affine=r.random() < 0.7), shape


def gen_elementwise(r: random.Random, kind: str) -> tuple[LayerSpec, tuple[int, ...]]:
    kw = {}
    if kind == "Dropout":
        kw["p"] = r.choice([0.0, 0.5, 1.0, -0.1, 1.5, 0.25])
    if kind == "GELU" and r.random() < 0.5:
        kw["approximate"] = r.choice(["none", "tanh", "erf"])
    if kind == "LeakyReLU" and r.random() < 0.5:
        kw["negative_slope"] = r.choice([0.01, 0.2, -1.0])
    return LayerSpec.of(kind, **kw), _image(r, r.randint(1, 4), r.randint(1, 5), hi=6)


GENERATORS = {
    **{kind: gen_conv for kind in ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose2d")},
    "MaxPool2d": gen_pool, "AvgPool2d": gen_pool, "AdaptiveAvgPool2d": gen_adaptive, "Flatten": gen_flatten,
    "LocallyConnected2d": gen_local, "Linear": gen_linear, "BatchNorm1d": gen_norm, "BatchNorm2d": gen_norm,
}


def test_every_layer_type_is_fuzzed():
    assert set(LAYER_TYPES) - set(GENERATORS) <= {"Dropout", "ReLU", "LeakyReLU", "ELU", "GELU", "SiLU", "Tanh",
                                                  "Sigmoid", "Identity"}


@pytest.mark.parametrize("kind", LAYER_TYPES)
def test_matches_torch_on_random_configurations(kind: str):
    rng = random.Random(f"shapes-{kind}")
    gen = GENERATORS.get(kind, gen_elementwise)
    tally, mismatches = Counter(), []
    torch.set_num_threads(1)  # tiny tensors: threads only add overhead
    with torch.no_grad():
        for _ in range(CONFIGS_PER_TYPE):
            layer, in_shape = gen(rng, kind)
            want, got = torch_shape(layer, in_shape), ours(layer, in_shape)
            assert traced(layer, in_shape) == got  # a one-layer network agrees, receptive field and all
            if want == got:
                tally["accepted" if got is not None else "rejected"] += 1
            elif got is None and deliberately_stricter(layer, in_shape, want):
                tally["stricter"] += 1
            else:
                mismatches.append((layer, in_shape, want, got))
    assert not mismatches, f"{len(mismatches)} mismatches, first: {mismatches[:3]}"
    assert sum(tally.values()) == CONFIGS_PER_TYPE
    # The fuzz must exercise both sides of the line, not only the easy one.
    assert tally["accepted"] > CONFIGS_PER_TYPE * 0.2
    if kind in GENERATORS or kind in ("Dropout", "GELU"):
        assert tally["rejected"] > CONFIGS_PER_TYPE * 0.02


def test_the_calculator_imports_no_torch():
    code = "import sys, cnn_dash.shapes; assert 'torch' not in sys.modules and 'streamlit' not in sys.modules"
    import subprocess
    subprocess.run([sys.executable, "-c", code], check=True)


# ---- messages a student can act on ----

@pytest.mark.parametrize("layer, in_shape, words", [
    (LayerSpec.of("Conv2d", out_channels=8, kernel_size=5, padding=1), (1, 2, 2), ["kernel 5", "padded input 4", "2 + 2*1"]),
    (LayerSpec.of("Conv2d", out_channels=8, kernel_size=3, padding="same", stride=2), (1, 9, 9), ["'same'", "stride"]),
    (LayerSpec.of("Conv2d", out_channels=8, kernel_size=3, groups=2), (3, 9, 9), ["in_channels=3", "groups=2"]),
    (LayerSpec.of("MaxPool2d", kernel_size=3, padding=2), (1, 9, 9), ["padding 2", "half the kernel 3"]),
    (LayerSpec.of("Conv2d", out_channels=0, kernel_size=3), (1, 9, 9), ["out_channels", "positive", "0"]),
    (LayerSpec.of("Conv2d", out_channels=4, kernel_size=-3), (1, 9, 9), ["kernel_size", "-3"]),
    (LayerSpec.of("Linear", in_features=100, out_features=10), (36,), ["in_features=100", "36"]),
    (LayerSpec.of("ConvTranspose2d", out_channels=2, kernel_size=3, stride=2, output_padding=2), (1, 4, 4),
     ["output_padding 2", "stride 2"]),
    (LayerSpec.of("Conv2d", out_channels=4, kernel_size=3, dilation=3), (1, 5, 5), ["7", "dilation 3", "padded input 5"]),
])
def test_rejections_name_the_numbers(layer, in_shape, words):
    with pytest.raises(ShapeError) as info:
        output_shape(layer, in_shape)
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_ceil_mode_last_window_must_start_inside():
    # 5 wide, kernel 2, stride 2: floor gives 2, ceil gives 3 (the third window starts at 4, inside)
    assert pool_output_size(5, 2, 2, 0, 1, ceil_mode=False) == 2
    assert pool_output_size(5, 2, 2, 0, 1, ceil_mode=True) == 3
    # 4 wide, kernel 2, stride 3: ceil would give 2 windows, the second starts at 3 (inside): kept
    assert pool_output_size(4, 2, 3, 0, 1, ceil_mode=True) == 2
    # 6 wide, padding 1, kernel 2, stride 4: ceil's third window would start at 8 >= 6 + 1: dropped
    assert pool_output_size(6, 2, 4, 1, 1, ceil_mode=True) == 2


# ---- whole networks ----

SEED_CONVNET = NetSpec("ConvNet", (
    LayerSpec.of("Conv2d", out_channels=16, kernel_size=3, stride=1, padding=1),
    LayerSpec.of("MaxPool2d", kernel_size=2, stride=2, padding=0),
    LayerSpec.of("Conv2d", out_channels=32, kernel_size=3, stride=1, padding=0),
    LayerSpec.of("MaxPool2d", kernel_size=2, stride=2, padding=1),
    LayerSpec.of("Conv2d", out_channels=64, kernel_size=1),
    LayerSpec.of("Conv2d", out_channels=4, kernel_size=5),
    LayerSpec.of("Flatten"),
    LayerSpec.of("Linear", out_features=10),
))


def test_trace_of_the_seed_convnet():
    rows = trace(SEED_CONVNET)
    assert [r.out_shape for r in rows] == [(16, 28, 28), (16, 14, 14), (32, 12, 12), (32, 7, 7), (64, 7, 7),
                                          (4, 3, 3), (36,), (10,)]
    assert [r.params for r in rows] == [160, 0, 4640, 0, 2112, 6404, 0, 370]
    assert resolve(SEED_CONVNET).layers[-1].get("in_features") == 36
    # receptive field r += (k-1)*jump, jump *= stride: 3, 4, 8, 10, 10, 26
    assert [r.receptive_field for r in rows[:6]] == [(3, 3), (4, 4), (8, 8), (10, 10), (10, 10), (26, 26)]
    assert [r.jump for r in rows[:6]] == [(1, 1), (2, 2), (2, 2), (4, 4), (4, 4), (4, 4)]
    assert rows[-1].jump == ()


def test_trace_names_the_failing_layer():
    net = NetSpec("bad", (LayerSpec.of("Conv2d", out_channels=4, kernel_size=3), LayerSpec.of("MaxPool2d", kernel_size=2),
                          LayerSpec.of("Conv2d", out_channels=4, kernel_size=9)), input_shape=(1, 12, 12))
    with pytest.raises(ShapeError, match=r"layer 3 \(Conv2d, input \(4, 5, 5\)\): kernel 9"):
        trace(net)


def test_given_input_size_that_disagrees_is_explained():
    net = NetSpec("bad", (LayerSpec.of("Flatten"), LayerSpec.of("Linear", in_features=9216, out_features=128)))
    with pytest.raises(ShapeError, match=r"layer 2 \(Linear.*in_features=9216.*784"):
        trace(net)


def test_limits_reject_oversize_stacks():
    relu = LayerSpec.of("ReLU")
    with pytest.raises(ShapeError, match="41 layers"):
        trace(NetSpec("deep", (relu,) * (MAX_LAYERS + 1)))
    with pytest.raises(ShapeError, match="out_channels=4096"):
        trace(NetSpec("wide", (LayerSpec.of("Conv2d", out_channels=4096, kernel_size=3),)))
    with pytest.raises(ShapeError, match="parameters"):
        trace(NetSpec("big", (LayerSpec.of("Flatten"), LayerSpec.of("Linear", out_features=8000),
                              LayerSpec.of("Linear", out_features=8000))))
    with pytest.raises(ShapeError, match="input"):
        trace(NetSpec("huge", (relu,), input_shape=(1, 10_000, 10_000)))
    # BatchNorm1d normalises a Linear layer's features: capped as those are (2,048 fits), not as channels
    wide = (LayerSpec.of("Flatten"), LayerSpec.of("Linear", out_features=2048))
    assert trace(NetSpec("fc", (*wide, LayerSpec.of("BatchNorm1d"))))[-1].out_shape == (2048,)


def test_macs_match_torchinfo():
    import torchinfo

    from cnn_dash.build import build_model

    for net in (SEED_CONVNET, NetSpec("t", (LayerSpec.of("ConvTranspose2d", out_channels=3, kernel_size=3, stride=2),
                                            LayerSpec.of("BatchNorm2d"), LayerSpec.of("Flatten"),
                                            LayerSpec.of("Linear", out_features=5)), input_shape=(2, 6, 5))):
        stats = torchinfo.summary(build_model(net), input_size=(1, *net.input_shape), device="cpu", verbose=0)
        assert stats.total_mult_adds == sum(r.macs for r in trace(net))
