"""The sliding window behind an output size: the formula with the numbers put in, and which inputs one output sees.

Pure Python and numpy, like cnn_dash.shapes: the single-layer page explains a layer without building it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from cnn_dash.shapes import (CONV_TYPES, DIM_NAMES, SPATIAL_DIMS, _ints, conv_padding, fill_inferred,
                             layer_args, output_shape, param_count_of)
from cnn_dash.specs import LayerSpec

WINDOWED = ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
            "LocallyConnected2d")


@dataclass(frozen=True)
class DimWindow:
    """One spatial dimension of a windowed layer: its numbers, the rounding, and what the windows leave out."""

    name: str  # "height", "width", "length", "depth"
    size: int  # input size along this dimension
    out: int
    kind: str  # "conv", "pool", "transposed" or "adaptive"
    kernel: int = 1
    stride: int = 1
    dilation: int = 1
    pad_before: int = 0
    pad_after: int = 0
    output_padding: int = 0
    ceil_mode: bool = False

    @property
    def span(self) -> int:
        """Input positions from a window's first tap to its last: dilation*(kernel-1)+1."""
        return self.dilation * (self.kernel - 1) + 1

    @property
    def padded(self) -> int:
        """Input size with the padding on both sides."""
        return self.size + self.pad_before + self.pad_after

    @property
    def exact(self) -> Fraction:
        """(padded - span) / stride before rounding; the output is its floor (or ceil) + 1."""
        return Fraction(self.padded - self.span, self.stride)

    @property
    def dropped_last(self) -> bool:
        """Ceil mode would have added a window starting in the right padding; torch drops it."""
        return self.kind == "pool" and self.ceil_mode and self.out == math.ceil(self.exact)

    @property
    def uncovered(self) -> int:
        """Padded positions after the last window that no window reaches (negative: the last window overhangs)."""
        if self.kind not in ("conv", "pool"):
            return 0
        return self.padded - ((self.out - 1) * self.stride + self.span)

    @property
    def uncovered_input(self) -> int:
        """Of the uncovered positions, how many are real input, not padding."""
        return max(0, self.uncovered - self.pad_after)

    def taps(self, o: int) -> list[int]:
        """Input positions (0 = first real input, negatives = padding) that output position `o` reads."""
        if self.kind == "adaptive":
            return list(range(o * self.size // self.out, -(-(o + 1) * self.size // self.out)))
        if self.kind == "transposed":  # output o = i*stride - padding + t*dilation
            reach = (o + self.pad_before - t * self.dilation for t in range(self.kernel))
            return sorted({q // self.stride for q in reach if q % self.stride == 0 and 0 <= q // self.stride < self.size})
        start = o * self.stride - self.pad_before
        return [start + t * self.dilation for t in range(self.kernel)]

    def window_sizes(self) -> list[int]:
        """The distinct numbers of input positions the windows read (adaptive windows differ)."""
        return sorted({len(self.taps(o)) for o in range(self.out)})

    def _sizes_latex(self) -> str:
        return r" \text{ or } ".join(map(str, self.window_sizes()))

    def latex(self) -> tuple[str, str]:
        """(the general formula, the same with this layer's numbers and the result) as LaTeX."""
        n, k, s, d, out = self.size, self.kernel, self.stride, self.dilation, self.out
        if self.kind == "adaptive":
            return (r"\text{window}_i = \left[\left\lfloor \tfrac{i\,n}{o} \right\rfloor,\ "
                    r"\left\lceil \tfrac{(i+1)\,n}{o} \right\rceil\right)",
                    rf"n = {n},\ o = {out}:\ \text{{windows of }} {self._sizes_latex()} \text{{ positions}}")
        if self.kind == "transposed":
            p, op = self.pad_before, self.output_padding
            return (r"\text{out} = (n-1)\,s - 2p + d\,(k-1) + \text{output\_padding} + 1",
                    rf"({n}-1)\cdot {s} - 2\cdot {p} + {d}\cdot({k}-1) + {op} + 1 = {out}")
        lo, hi = self.pad_before, self.pad_after
        pad = f"2\\cdot {lo}" if lo == hi else f"{lo} + {hi}"
        bracket = (r"\left\lceil", r"\right\rceil") if self.ceil_mode else (r"\left\lfloor", r"\right\rfloor")
        general = rf"\text{{out}} = {bracket[0]} \frac{{n + {'2p' if lo == hi else 'p_l + p_r'} - d\,(k-1) - 1}}{{s}} {bracket[1]} + 1"
        value = _number(self.exact)
        rounded = math.ceil(self.exact) if self.ceil_mode else math.floor(self.exact)
        sub = (rf"{bracket[0]} \frac{{{n} + {pad} - {d}\cdot({k}-1) - 1}}{{{s}}} {bracket[1]} + 1 = "
               rf"{bracket[0]} {value} {bracket[1]} + 1 = {rounded + 1}")
        if self.dropped_last:
            sub += rf" - 1 = {out}"
        return general, sub


def _number(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else rf"\tfrac{{{x.numerator}}}{{{x.denominator}}}"


@dataclass(frozen=True)
class Explanation:
    """A single layer explained: shapes, cost, and one DimWindow per spatial dimension (none for other layers)."""

    layer: LayerSpec  # resolved
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    params: int
    macs: int  # per sample, as torchinfo counts them
    dims: tuple[DimWindow, ...]


def explain(layer: LayerSpec, in_shape: tuple[int, ...]) -> Explanation:
    """Everything the single-layer view shows about `layer` on `in_shape`; ShapeError if torch would refuse it."""
    layer = fill_inferred(layer, tuple(in_shape))
    out = output_shape(layer, in_shape)
    params = param_count_of(layer)
    macs = params * math.prod(out[1:]) if layer.type in CONV_TYPES else params
    dims = _dims(layer, tuple(in_shape), out) if layer.type in WINDOWED else ()
    return Explanation(layer, tuple(in_shape), out, params, macs, dims)


def _dims(layer: LayerSpec, in_shape: tuple[int, ...], out: tuple[int, ...]) -> tuple[DimWindow, ...]:
    n, a = SPATIAL_DIMS[layer.type], layer_args(layer)
    names, sizes, outs = DIM_NAMES[n], in_shape[1:], out[1:]
    if layer.type == "AdaptiveAvgPool2d":
        return tuple(DimWindow(nm, size, o, "adaptive") for nm, size, o in zip(names, sizes, outs))
    pool = "Pool" in layer.type
    k = _ints(a, "kernel_size", n, 1, broadcast_one=pool)
    s = k if pool and a["stride"] in (None, ()) else _ints(a, "stride", n, 1, broadcast_one=True)
    d = _ints(a, "dilation", n, 1, broadcast_one=True) if "dilation" in a else (1,) * n
    if layer.type == "ConvTranspose2d":
        p, op = (_ints(a, name, n, 0, broadcast_one=True) for name in ("padding", "output_padding"))
        return tuple(DimWindow(nm, size, o, "transposed", ki, si, di, pi, pi, opi)
                     for nm, size, o, ki, si, di, pi, opi in zip(names, sizes, outs, k, s, d, p, op))
    if pool:
        lo = hi = _ints(a, "padding", n, 0, broadcast_one=True)
    else:
        lo, hi = conv_padding({"padding_mode": "zeros", **a}, n, k, s, d)  # LocallyConnected2d pads with zeros
    ceil = bool(a.get("ceil_mode", False))
    kind = "pool" if pool else "conv"
    return tuple(DimWindow(nm, size, o, kind, ki, si, di, pl, ph, 0, ceil)
                 for nm, size, o, ki, si, di, pl, ph in zip(names, sizes, outs, k, s, d, lo, hi))


def pool2d(image: np.ndarray, layer: LayerSpec) -> np.ndarray:
    """MaxPool2d or AvgPool2d of one (H, W) image, with torch's rules for padding, ceil mode and the divisor."""
    expl = explain(layer, (1, *image.shape))
    rows, cols = expl.dims
    a = layer_args(layer)
    out = np.empty((rows.out, cols.out), dtype=np.float64)
    for i in range(rows.out):
        for j in range(cols.out):
            r = [x for x in rows.taps(i) if 0 <= x < rows.size]
            c = [x for x in cols.taps(j) if 0 <= x < cols.size]
            cells = image[np.ix_(r, c)].astype(np.float64)
            if layer.type == "MaxPool2d":
                out[i, j] = cells.max() if cells.size else -np.inf  # padding counts as -inf
                continue
            # torch divides by the window clipped to the padded input, or by the real cells only
            h = min(rows.taps(i)[-1] + 1, rows.size + rows.pad_after) - rows.taps(i)[0]
            w = min(cols.taps(j)[-1] + 1, cols.size + cols.pad_after) - cols.taps(j)[0]
            divisor = a["divisor_override"] or (h * w if a["count_include_pad"] else cells.size)
            out[i, j] = cells.sum() / divisor
    return out


def rounding_text(dim: DimWindow) -> str:
    """One or two sentences on how this dimension's size came out: the rounding and what no window reaches."""
    n, s, out, name = dim.size, dim.stride, dim.out, dim.name
    if dim.kind == "transposed":
        return (f"No rounding here: each of the {n} input positions stamps a kernel {dim.span} wide, {s} apart; "
                f"padding {dim.pad_before} trims that many positions from both ends and output_padding "
                f"{dim.output_padding} adds positions at the end, giving {out}.")
    if dim.kind == "adaptive":
        sizes = " or ".join(map(str, dim.window_sizes()))
        return (f"Adaptive pooling chooses the windows so that exactly {out} come out of {n}: window i covers "
                f"positions ⌊i·{n}/{out}⌋ to ⌈(i+1)·{n}/{out}⌉ − 1, so windows are {sizes} wide and may overlap.")
    room = dim.padded - dim.span
    uncovered = dim.uncovered
    edge = (f"{uncovered} position{'s' * (uncovered != 1)} at the end of the padded {name} "
            f"({dim.uncovered_input} of the input, {uncovered - dim.uncovered_input} of padding) "
            f"{'are' if uncovered != 1 else 'is'} never covered by any window")
    if dim.dropped_last:
        return (f"{room}/{s} rounded up gives {math.ceil(dim.exact) + 1} windows, but the last one would start at "
                f"position {out * s - dim.pad_before}, after the last input position {n - 1}: torch drops a "
                f"window that does not start inside the input or its left padding, so {out} remain"
                + (f"; {edge}." if uncovered > 0 else "."))
    if room % s == 0:
        return f"{room} divides by the stride {s}: no rounding, and the last window ends exactly at the edge."
    if dim.ceil_mode:
        return (f"{room}/{s} leaves a remainder of {room % s}; ceil_mode rounds up, adding a last window that "
                f"hangs {-uncovered} position{'s' * (uncovered != -1)} past the padded {name} (those are ignored).")
    return f"{room}/{s} leaves a remainder of {room % s}; the floor drops it, so {edge}."
