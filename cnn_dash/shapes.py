"""Output shapes exactly as torch computes them, with messages a student can act on. No torch import.

Shapes exclude the batch: (C, H, W) for images, (C, L) for Conv1d, (C, D, H, W) for Conv3d, (F,) after Flatten.
One layer's rules come first (output_shape), then a whole network's trace. The module is longer than the house's
~300 lines because torch's rules for each layer type belong side by side; tests/test_shapes.py checks them all.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

from cnn_dash.specs import LayerSpec, NetSpec

# Limits a visitor cannot exceed (issue 7): one stack must never sink a 2-core, ~2.7 GB server.
MAX_LAYERS = 40
MAX_CHANNELS = 1024
MAX_FEATURES = 65_536  # Linear in/out features: 64 channels x 32 x 32 still fits
MAX_SPATIAL = 512  # any height, width, depth or length
MAX_PARAMS = 5_000_000
MAX_ACTIVATIONS = 4_000_000  # values in one layer's output, per sample


class ShapeError(ValueError):
    """A layer torch would reject (or the calculator refuses), with the numbers that explain why."""


_REQUIRED = object()
_CONV = dict(in_channels=_REQUIRED, out_channels=_REQUIRED, kernel_size=_REQUIRED, stride=1, padding=0,
             dilation=1, groups=1, bias=True, padding_mode="zeros")
SIGNATURES: dict[str, dict[str, Any]] = {
    "Conv1d": _CONV, "Conv2d": _CONV, "Conv3d": _CONV,
    "ConvTranspose2d": {**_CONV, "output_padding": 0},
    "MaxPool2d": dict(kernel_size=_REQUIRED, stride=None, padding=0, dilation=1, return_indices=False,
                      ceil_mode=False),
    "AvgPool2d": dict(kernel_size=_REQUIRED, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                      divisor_override=None),
    "AdaptiveAvgPool2d": dict(output_size=_REQUIRED),
    "Flatten": dict(start_dim=1, end_dim=-1),
    # cnn_dash.layers: a convolution's windows with its own kernel at every position; in_size is the input's (H, W)
    "LocallyConnected2d": dict(in_channels=_REQUIRED, out_channels=_REQUIRED, kernel_size=_REQUIRED,
                               in_size=_REQUIRED, stride=1, padding=0, dilation=1, bias=True),
    "Linear": dict(in_features=_REQUIRED, out_features=_REQUIRED, bias=True),
    "BatchNorm1d": dict(num_features=_REQUIRED, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True),
    "BatchNorm2d": dict(num_features=_REQUIRED, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True),
    "Dropout": dict(p=0.5, inplace=False),
    "ReLU": dict(inplace=False), "LeakyReLU": dict(negative_slope=0.01, inplace=False),
    "ELU": dict(alpha=1.0, inplace=False), "GELU": dict(approximate="none"), "SiLU": dict(inplace=False),
    "Tanh": {}, "Sigmoid": {}, "Identity": {},
}
LAYER_TYPES = tuple(SIGNATURES)
# Spatial dimensions each windowed layer slides over; the input is (C, *spatial).
SPATIAL_DIMS = {"Conv1d": 1, "Conv2d": 2, "Conv3d": 3, "ConvTranspose2d": 2, "MaxPool2d": 2, "AvgPool2d": 2,
                "AdaptiveAvgPool2d": 2, "LocallyConnected2d": 2}
CONV_TYPES = ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose2d")
LOCAL = "LocallyConnected2d"
DIM_NAMES = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _fmt(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ")"


def layer_args(layer: LayerSpec) -> dict[str, Any]:
    """The layer's constructor arguments with torch's defaults filled in; unknown names are an error."""
    if layer.type not in SIGNATURES:
        raise ShapeError(f"unknown layer type '{layer.type}'; the calculator knows {', '.join(LAYER_TYPES)}")
    sig = SIGNATURES[layer.type]
    given = layer.kwargs()
    unknown = sorted(set(given) - set(sig))
    if unknown:
        raise ShapeError(f"{layer.type} has no argument {unknown[0]!r}; it takes {', '.join(sig) or 'none'}")
    args = {**sig, **given}
    missing = [k for k, v in args.items() if v is _REQUIRED]
    if missing:
        raise ShapeError(f"{layer.type} needs {missing[0]}")
    return args


def _int(args: dict[str, Any], name: str, minimum: int) -> int:
    value = args[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ShapeError(f"{name} must be a whole number, not {value!r}")
    if value < minimum:
        word = "positive" if minimum == 1 else "at least 0"
        raise ShapeError(f"{name} must be {word}, but it is {value}")
    return value


def _ints(args: dict[str, Any], name: str, n: int, minimum: int, broadcast_one: bool = False) -> tuple[int, ...]:
    """An int or a per-dimension tuple as n ints; pooling also takes a 1-tuple for every dimension, as torch."""
    value = args[name]
    if isinstance(value, (tuple, list)):
        if broadcast_one and len(value) == 1:
            value = tuple(value) * n
        if len(value) != n:
            raise ShapeError(f"{name}={tuple(value)} has {len(value)} values; give one number or {n} "
                             f"({', '.join(DIM_NAMES[n])})")
        return tuple(_int({name: v}, name, minimum) for v in value)
    return (_int(args, name, minimum),) * n


def _expect_rank(kind: str, in_shape: tuple[int, ...], rank: int) -> None:
    if len(in_shape) != rank:
        want = {2: "(C, L)", 3: "(C, H, W)", 4: "(C, D, H, W)"}[rank]
        hint = " (a Flatten or Linear before it has already removed the image layout)" if len(in_shape) < rank else ""
        raise ShapeError(f"{kind} expects an input of shape {want} but gets {_fmt(in_shape)}{hint}")


def _expect_channels(args: dict[str, Any], name: str, in_shape: tuple[int, ...]) -> int:
    want = _int(args, name, 1)
    if want != in_shape[0]:
        raise ShapeError(f"{name}={want} but the input {_fmt(in_shape)} has {in_shape[0]} channels; "
                         f"set {name}={in_shape[0]} or leave it empty to infer it")
    return want


def _groups(args: dict[str, Any], in_ch: int, out_ch: int) -> int:
    g = _int(args, "groups", 1)
    for name, value in (("in_channels", in_ch), ("out_channels", out_ch)):
        if value % g:
            raise ShapeError(f"{name}={value} is not divisible by groups={g}: each group needs a whole "
                             f"number of channels")
    return g


def conv_padding(args: dict[str, Any], n: int, kernel: tuple[int, ...], stride: tuple[int, ...],
                 dilation: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(left, right) padding per dimension, resolving 'same' and 'valid' as torch does."""
    pad = args["padding"]
    if isinstance(pad, str):
        if pad not in ("same", "valid"):
            raise ShapeError(f"padding={pad!r} is not one torch knows; use a number, 'same' or 'valid'")
        if pad == "valid":
            return (0,) * n, (0,) * n
        if any(s != 1 for s in stride):
            raise ShapeError(f"padding='same' needs stride 1 but stride is {stride if n > 1 else stride[0]}: "
                             f"torch cannot keep the size while skipping positions; use a number for padding")
        total = [d * (k - 1) for d, k in zip(dilation, kernel)]  # torch puts the odd pixel on the right
        return tuple(t // 2 for t in total), tuple(t - t // 2 for t in total)
    # torch repeats a 1-tuple for every dimension, except that other padding modes then pad one dimension only
    p = _ints(args, "padding", n, 0, broadcast_one=args["padding_mode"] == "zeros")
    return p, p


def _check_padding_mode(args: dict[str, Any], sizes, left, right) -> None:
    mode = args["padding_mode"]
    if mode not in PADDING_MODES:
        raise ShapeError(f"padding_mode={mode!r} is not one of {', '.join(PADDING_MODES)}")
    for name, n, lo, hi in zip(DIM_NAMES[len(sizes)], sizes, left, right):
        if mode == "reflect" and max(lo, hi) >= n:
            raise ShapeError(f"reflect padding {max(lo, hi)} must be smaller than the input {name} {n}: "
                             f"a mirror image cannot be wider than the image")
        if mode == "circular" and max(lo, hi) > n:
            raise ShapeError(f"circular padding {max(lo, hi)} is larger than the input {name} {n}: "
                             f"it would wrap around more than once")


def _conv(kind: str, args: dict[str, Any], in_shape: tuple[int, ...]) -> tuple[int, ...]:
    n = SPATIAL_DIMS[kind]
    _expect_rank(kind, in_shape, n + 1)
    in_ch, out_ch = _expect_channels(args, "in_channels", in_shape), _int(args, "out_channels", 1)
    _groups(args, in_ch, out_ch)
    k = _ints(args, "kernel_size", n, 1)
    s, d = (_ints(args, name, n, 1, broadcast_one=True) for name in ("stride", "dilation"))
    sizes, names = in_shape[1:], DIM_NAMES[n]
    if kind == "ConvTranspose2d":
        return (out_ch, *_transposed(args, sizes, k, s, d))
    left, right = conv_padding(args, n, k, s, d)
    _check_padding_mode(args, sizes, left, right)
    out = []
    for name, size, ki, si, di, lo, hi in zip(names, sizes, k, s, d, left, right):
        span = di * (ki - 1) + 1
        if span > size + lo + hi:
            pads = f"2*{lo}" if lo == hi else f"{lo} + {hi}"
            raise ShapeError(f"kernel {_span(ki, di)} is larger than the padded input {size + lo + hi} "
                             f"({size} + {pads}) in {name}")
        out.append((size + lo + hi - span) // si + 1)
    return (out_ch, *out)


def _local(args: dict[str, Any], in_shape: tuple[int, ...]) -> tuple[int, ...]:
    """A locally connected layer: a Conv2d's windows, for the one input size its weights were made for."""
    _expect_rank(LOCAL, in_shape, 3)
    if isinstance(args["padding"], str):
        raise ShapeError(f"{LOCAL} takes a number for padding, not {args['padding']!r}: write the padding "
                         f"'same' would give (e.g. 1 for a 3×3 kernel)")
    size = args["in_size"]
    size = tuple(size) if isinstance(size, (tuple, list)) else (size, size)
    if size != tuple(in_shape[1:]):
        raise ShapeError(f"in_size={size} but the input {_fmt(in_shape)} is {in_shape[1]}×{in_shape[2]}: a locally "
                         f"connected layer has weights for one input size only; leave in_size empty to infer it")
    return _conv("Conv2d", {**args, "groups": 1, "padding_mode": "zeros"}, in_shape)


def _span(k: int, d: int) -> str:
    return str(k) if d == 1 else f"{d * (k - 1) + 1} ({k} taps with dilation {d}: {d}*({k}-1)+1)"


def _transposed(args: dict[str, Any], sizes, k, s, d) -> tuple[int, ...]:
    if isinstance(args["padding"], str):
        raise ShapeError("ConvTranspose2d takes a number for padding, not 'same' or 'valid'")
    if args["padding_mode"] != "zeros":
        raise ShapeError("ConvTranspose2d only supports padding_mode='zeros'")
    p, op = (_ints(args, name, 2, 0, broadcast_one=True) for name in ("padding", "output_padding"))
    out = []
    for name, n, ki, si, di, pi, oi in zip(DIM_NAMES[2], sizes, k, s, d, p, op):
        if oi >= si and oi >= di:
            raise ShapeError(f"output_padding {oi} in {name} must be smaller than the stride {si} or the "
                             f"dilation {di}: it only picks one of the sizes that stride {si} makes ambiguous")
        size = (n - 1) * si - 2 * pi + di * (ki - 1) + oi + 1
        if size < 1:
            raise ShapeError(f"output {name} would be {size}: ({n}-1)*{si} - 2*{pi} + {di}*({ki}-1) + {oi} + 1; "
                             f"padding {pi} removes more than the layer produces")
        out.append(size)
    return tuple(out)


def pool_output_size(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """torch's pooling_output_shape: floor or ceil, and in ceil mode the last window must start inside."""
    out = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _pool(kind: str, args: dict[str, Any], in_shape: tuple[int, ...]) -> tuple[int, ...]:
    _expect_rank(kind, in_shape, 3)
    if args.get("return_indices"):
        raise ShapeError("return_indices=True makes MaxPool2d return a pair, which nn.Sequential cannot pass on")
    k = _ints(args, "kernel_size", 2, 1, broadcast_one=True)
    stride = args["stride"]
    s = k if stride is None or stride == () else _ints(args, "stride", 2, 1, broadcast_one=True)
    p = _ints(args, "padding", 2, 0, broadcast_one=True)
    d = _ints(args, "dilation", 2, 1, broadcast_one=True) if kind == "MaxPool2d" else (1, 1)
    if kind == "AvgPool2d" and args["divisor_override"] == 0:
        raise ShapeError("divisor_override=0 would divide by zero; leave it empty to divide by the window size")
    ceil = bool(args["ceil_mode"])
    out = []
    for name, n, ki, si, pi, di in zip(DIM_NAMES[2], in_shape[1:], k, s, p, d):
        if pi > ki // 2:
            raise ShapeError(f"padding {pi} in {name} is more than half the kernel {ki} (at most {ki // 2}): "
                             f"a window could then see nothing but padding")
        size = pool_output_size(n, ki, si, pi, di, ceil)
        if size < 1:
            raise ShapeError(f"kernel {_span(ki, di)} is larger than the padded input {n + 2 * pi} "
                             f"({n} + 2*{pi}) in {name}")
        out.append(size)
    return (in_shape[0], *out)


def _adaptive(args: dict[str, Any], in_shape: tuple[int, ...]) -> tuple[int, ...]:
    _expect_rank("AdaptiveAvgPool2d", in_shape, 3)
    size = args["output_size"]
    size = tuple(size) if isinstance(size, (tuple, list)) else (_int(args, "output_size", 1),) * 2
    if len(size) != 2:
        raise ShapeError(f"output_size={size} needs one number or two (height, width)")
    out = tuple(n if v is None else _int({"output_size": v}, "output_size", 1) for n, v in zip(in_shape[1:], size))
    return (in_shape[0], *out)


def _flatten(args: dict[str, Any], in_shape: tuple[int, ...]) -> tuple[int, ...]:
    ndim = len(in_shape) + 1  # torch sees the batch dimension too
    dims = []
    for name in ("start_dim", "end_dim"):
        v = _int(args, name, -ndim)
        if v >= ndim:
            raise ShapeError(f"{name}={v} is out of range for a {ndim}-d batch of shape (B, {_fmt(in_shape)[1:]}: "
                             f"use {-ndim} to {ndim - 1}")
        dims.append(v % ndim)
    start, end = dims
    if start > end:
        raise ShapeError(f"start_dim ({args['start_dim']}) comes after end_dim ({args['end_dim']}) in a "
                         f"{ndim}-d batch")
    if start == end:
        return in_shape
    if start == 0:
        raise ShapeError("start_dim=0 would merge the batch into the features; use start_dim=1")
    full = (None, *in_shape)
    return (*in_shape[: start - 1], math.prod(full[start : end + 1]), *in_shape[end:])


def _linear(args: dict[str, Any], in_shape: tuple[int, ...]) -> tuple[int, ...]:
    want, out = _int(args, "in_features", 1), _int(args, "out_features", 1)
    if want != in_shape[-1]:
        raise ShapeError(f"in_features={want} but the input {_fmt(in_shape)} has {in_shape[-1]} features "
                         f"in its last dimension; set in_features={in_shape[-1]} or leave it empty to infer it")
    return (*in_shape[:-1], out)


def _norm(kind: str, args: dict[str, Any], in_shape: tuple[int, ...]) -> tuple[int, ...]:
    if kind == "BatchNorm2d":
        _expect_rank(kind, in_shape, 3)
    elif len(in_shape) not in (1, 2):
        raise ShapeError(f"BatchNorm1d expects (C,) or (C, L) but gets {_fmt(in_shape)}; images need BatchNorm2d")
    _expect_channels(args, "num_features", in_shape)
    return in_shape


def _dropout(args: dict[str, Any], in_shape: tuple[int, ...]) -> tuple[int, ...]:
    p = args["p"]
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise ShapeError(f"dropout probability p must be between 0 and 1, but it is {p!r}")
    return in_shape


def fill_inferred(layer: LayerSpec, in_shape: tuple[int, ...]) -> LayerSpec:
    """The layer with in_channels / in_features / num_features taken from its input when they are not set."""
    if layer.type == LOCAL and layer.get("in_size") is None and len(in_shape) == 3:
        layer = LayerSpec.of(LOCAL, **layer.kwargs(), in_size=tuple(in_shape[1:]))
    name = {"Linear": "in_features", "BatchNorm1d": "num_features", "BatchNorm2d": "num_features"}.get(
        layer.type, "in_channels" if layer.type in (*CONV_TYPES, LOCAL) else None)
    if name is None or layer.get(name) is not None or not in_shape:
        return layer
    return LayerSpec.of(layer.type, **layer.kwargs(), **{name: in_shape[-1] if name == "in_features" else in_shape[0]})


def output_shape(layer: LayerSpec, in_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The output shape (batch excluded) torch gives for `layer` on an input of `in_shape`, or ShapeError."""
    in_shape = tuple(in_shape)
    if not in_shape or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in in_shape):
        raise ShapeError(f"input shape {_fmt(in_shape)} must be whole numbers of at least 1")
    if layer.type == LOCAL:  # before in_size, which is inferred from an image's (H, W), is asked for
        _expect_rank(LOCAL, in_shape, 3)
    args = layer_args(fill_inferred(layer, in_shape))
    kind = layer.type
    if kind in CONV_TYPES:
        return _conv(kind, args, in_shape)
    if kind == LOCAL:
        return _local(args, in_shape)
    if kind in ("MaxPool2d", "AvgPool2d"):
        return _pool(kind, args, in_shape)
    if kind == "AdaptiveAvgPool2d":
        return _adaptive(args, in_shape)
    if kind == "Flatten":
        return _flatten(args, in_shape)
    if kind == "Linear":
        return _linear(args, in_shape)
    if kind.startswith("BatchNorm"):
        return _norm(kind, args, in_shape)
    if kind == "Dropout":
        return _dropout(args, in_shape)
    if kind == "GELU" and args["approximate"] not in ("none", "tanh"):
        raise ShapeError(f"GELU approximate={args['approximate']!r} must be 'none' or 'tanh'")
    return in_shape  # element-wise activations keep the shape


def param_count_of(layer: LayerSpec) -> int:
    """Trainable parameters of one resolved layer (in_channels / in_features / num_features set)."""
    a = layer_args(layer)
    if layer.type in CONV_TYPES:
        n = SPATIAL_DIMS[layer.type]
        k = math.prod(_ints(a, "kernel_size", n, 1))
        fan = a["in_channels"] * (a["out_channels"] // a["groups"])  # the same for transposed convolutions
        return fan * k + (a["out_channels"] if a["bias"] else 0)
    if layer.type == LOCAL:  # a convolution's weights and biases, once per output position
        out = output_shape(layer, (a["in_channels"], *_ints(a, "in_size", 2, 1)))
        k = math.prod(_ints(a, "kernel_size", 2, 1))
        return (a["in_channels"] * k + (1 if a["bias"] else 0)) * math.prod(out)
    if layer.type == "Linear":
        return a["in_features"] * a["out_features"] + (a["out_features"] if a["bias"] else 0)
    if layer.type.startswith("BatchNorm"):
        return 2 * a["num_features"] if a["affine"] else 0
    return 0


def window_of(layer: LayerSpec, in_shape: tuple[int, ...], out_shape: tuple[int, ...]):
    """Per spatial dimension (kernel extent, stride) of a windowed layer, for receptive fields; None otherwise."""
    if layer.type not in SPATIAL_DIMS:
        return None
    n, a = SPATIAL_DIMS[layer.type], layer_args(layer)
    if layer.type == "AdaptiveAvgPool2d":  # window i covers [floor(i*n/o), ceil((i+1)*n/o))
        return [(max(-(-(i + 1) * size // o) - i * size // o for i in range(o)), Fraction(size, o))
                for size, o in zip(in_shape[1:], out_shape[1:])]
    pool = "Pool" in layer.type
    k = _ints(a, "kernel_size", n, 1, broadcast_one=pool)
    s = k if pool and a["stride"] in (None, ()) else _ints(a, "stride", n, 1, broadcast_one=True)
    d = _ints(a, "dilation", n, 1, broadcast_one=True) if "dilation" in a else (1,) * n
    spans = [di * (ki - 1) + 1 for ki, di in zip(k, d)]
    if layer.type == "ConvTranspose2d":  # an output sees at most ceil(span/stride) inputs, 1/stride apart
        return [(-(-span // si), Fraction(1, si)) for span, si in zip(spans, s)]
    return [(span, Fraction(si)) for span, si in zip(spans, s)]


@dataclass(frozen=True)
class LayerTrace:
    """One layer of a traced network: shapes without batch, and what the layer costs and sees."""

    index: int  # 0-based position in the stack
    layer: LayerSpec  # resolved: in_channels / in_features / num_features filled in
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    params: int
    macs: int  # multiply-adds per sample, counted as torchinfo counts them
    receptive_field: tuple[int, ...]  # input pixels one output value can see, per spatial dimension
    jump: tuple[Fraction, ...]  # effective stride: input pixels between neighbouring outputs; () once flattened


def _limit(ok: bool, message: str) -> None:
    if not ok:
        raise ShapeError(message + " (a limit that keeps the shared server responsive)")


_WIDTH_LIMITS = {"in_channels": MAX_CHANNELS, "out_channels": MAX_CHANNELS, "num_features": MAX_CHANNELS,
                 "in_features": MAX_FEATURES, "out_features": MAX_FEATURES}


def _check_limits(layer: LayerSpec, out_shape: tuple[int, ...]) -> None:
    for name, cap in _WIDTH_LIMITS.items():
        if layer.type == "BatchNorm1d" and name == "num_features":
            cap = MAX_FEATURES  # it normalises a Linear layer's features, capped as those are, not channels
        value = layer.get(name)
        if isinstance(value, int) and value > cap:
            _limit(False, f"{name}={value} is over the limit of {cap:,}")
    if layer.type in SPATIAL_DIMS:
        _limit(max(out_shape[1:]) <= MAX_SPATIAL, f"the output {_fmt(out_shape)} is larger than {MAX_SPATIAL} "
               f"in a spatial dimension")
    _limit(math.prod(out_shape) <= MAX_ACTIVATIONS, f"the output {_fmt(out_shape)} holds "
           f"{math.prod(out_shape):,} values per image, over {MAX_ACTIVATIONS:,}")


def trace(net: NetSpec) -> list[LayerTrace]:
    """Every layer's resolved spec, shapes, parameters, multiply-adds and receptive field; ShapeError naming the layer."""
    shape = tuple(net.input_shape)
    _limit(len(net.layers) <= MAX_LAYERS, f"{len(net.layers)} layers is over {MAX_LAYERS}")
    if not shape or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in shape):
        raise ShapeError(f"input shape {_fmt(shape)} must be whole numbers of at least 1")
    _limit(shape[0] <= MAX_CHANNELS and max(shape[1:], default=1) <= MAX_SPATIAL,
           f"input {_fmt(shape)} is over {MAX_CHANNELS} channels or {MAX_SPATIAL} pixels a side")
    spatial = shape[1:]
    rf, jump = (1,) * len(spatial), (Fraction(1),) * len(spatial)
    rows, total = [], 0
    for i, layer in enumerate(net.layers):
        try:
            resolved = fill_inferred(layer, shape)
            out = output_shape(resolved, shape)
            _check_limits(resolved, out)
            params = param_count_of(resolved)
            total += params
            _limit(total <= MAX_PARAMS, f"the network reaches {total:,} parameters here, over {MAX_PARAMS:,}")
            window = window_of(resolved, shape, out)
        except ShapeError as e:
            raise ShapeError(f"layer {i + 1} ({layer.type}, input {_fmt(shape)}): {e}") from None
        if layer.type == "Linear" or len(out) != len(shape):
            rf, jump = tuple(spatial), ()  # every output value now mixes the whole input
        elif window is not None and jump and len(window) == len(jump):
            rf = tuple(math.ceil(r + (k - 1) * j) for r, (k, _), j in zip(rf, window, jump))
            jump = tuple(j * s for j, (_, s) in zip(jump, window))
        # torchinfo's count; a locally connected layer (which torchinfo does not know) uses each weight once per image
        macs = params * math.prod(out[1:]) if layer.type in CONV_TYPES else params
        rows.append(LayerTrace(i, resolved, shape, out, params, macs, rf, jump))
        shape = out
    return rows


def net_cost(net: NetSpec) -> tuple[int, int]:
    """(trainable parameters, forward multiply-adds per input) of a network, from the shape arithmetic. Kept per
    network: every Training page run checks the form's models against the limits several times (a quarter of its
    server time before, measured with cProfile)."""
    try:
        return _cached_cost(net)
    except TypeError:  # a spec holding something unhashable: computed each time
        return _cost(net)


def _cost(net: NetSpec) -> tuple[int, int]:
    rows = trace(net)
    return sum(r.params for r in rows), sum(r.macs for r in rows)


_cached_cost = functools.lru_cache(maxsize=1024)(_cost)  # a ShapeError is raised again, never kept


def resolve(net: NetSpec) -> NetSpec:
    """The network with every inferred argument (in_channels, in_features, num_features) filled in."""
    return replace(net, layers=tuple(row.layer for row in trace(net)))
