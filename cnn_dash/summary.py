"""Layer-by-layer summaries of a network spec, computed by torchinfo on the CPU."""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache

import pandas as pd
import torchinfo
import torchinfo.torchinfo as _torchinfo_module

from cnn_dash.build import build_model
from cnn_dash.layers import CUSTOM_LAYERS
from cnn_dash.shapes import trace
from cnn_dash.specs import NetSpec


@dataclass(frozen=True)
class SummaryRow:
    """One layer of the network as torchinfo measured it (output shape includes the batch)."""

    index: int  # 1-based position in the stack, as torchinfo's "1-<index>"
    name: str  # torchinfo's label, e.g. "Conv2d: 1-3"
    type: str
    output_shape: tuple[int, ...]
    kernel: str  # "3×3" for convolutions and pooling, "" otherwise
    params: int
    params_percent: float
    mult_adds: int


@dataclass(frozen=True)
class Summary:
    """A torchinfo summary as plain values: rows and totals (memory in bytes; the *_mb properties as torchinfo)."""

    net_name: str
    input_shape: tuple[int, ...]  # batch included
    rows: tuple[SummaryRow, ...]
    total_params: int
    trainable_params: int
    total_mult_adds: int
    input_bytes: int
    forward_backward_bytes: int  # outputs of layers with parameters, x2 for their gradients
    params_bytes: int

    @property
    def input_mb(self) -> float:
        return self.input_bytes / 1e6

    @property
    def forward_backward_mb(self) -> float:
        return self.forward_backward_bytes / 1e6

    @property
    def params_mb(self) -> float:
        return self.params_bytes / 1e6

    @property
    def total_mb(self) -> float:
        return (self.input_bytes + self.forward_backward_bytes + self.params_bytes) / 1e6


def _kernel(kernel_size: int | list[int] | None) -> str:
    if kernel_size is None:
        return ""
    if isinstance(kernel_size, int):
        kernel_size = [kernel_size, kernel_size]
    return "×".join(str(k) for k in kernel_size)


@lru_cache(maxsize=128)  # a Summary holds no tensors or modules, so caching it keeps nothing alive
def _one_image(net: NetSpec) -> Summary:
    """torchinfo's summary of `net` for a batch of one; raises ShapeError for an invalid stack."""
    model = build_model(net)  # built on the CPU; device="cpu" below keeps it there
    try:
        stats = torchinfo.summary(model, input_size=(1, *net.input_shape), device="cpu", verbose=0)
    finally:
        # torchinfo 1.8 keeps every summarised model in a module-level dict (even with
        # cache_forward_pass=False), which would keep our models alive forever.
        _torchinfo_module.clear_cached_forward_pass()
    leaves = [info for info in stats.summary_list if info.depth > 0]
    total = stats.total_params
    # torchinfo knows the multiply-adds of torch's own layers only: ours come from the shape arithmetic
    own = [row.macs for row in trace(net)]
    macs = [own[i] if info.class_name in CUSTOM_LAYERS else info.macs for i, info in enumerate(leaves)]
    rows = tuple(
        SummaryRow(
            index=i,
            name=f"{info.class_name}: {info.depth}-{info.depth_index}",
            type=info.class_name,
            output_shape=tuple(info.output_size),
            kernel=_kernel(info.kernel_size),
            params=info.num_params,
            params_percent=100.0 * info.num_params / total if total else 0.0,
            mult_adds=mult_adds,
        )
        for i, (info, mult_adds) in enumerate(zip(leaves, macs), start=1)
    )
    return Summary(
        net_name=net.name,
        input_shape=(1, *net.input_shape),
        rows=rows,
        total_params=total,
        trainable_params=stats.trainable_params,
        total_mult_adds=stats.total_mult_adds - sum(i.macs for i in leaves) + sum(macs),
        input_bytes=stats.total_input,
        forward_backward_bytes=stats.total_output_bytes,
        params_bytes=stats.total_param_bytes,
    )


def summarize(net: NetSpec, batch_size: int = 1) -> Summary:
    """torchinfo's summary of `net` on a (batch_size, *net.input_shape) input; ShapeError for an invalid stack.

    torchinfo runs a single image: every count it reports (output shapes, multiply-adds, activation
    bytes) is proportional to the batch, so a batch of 1,024 costs no time or memory to summarise.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch size must be a whole number of at least 1, not {batch_size!r}")
    one = _one_image(net)
    b = batch_size
    # torchinfo measures the input with sys.getsizeof: the float32 data plus a fixed object overhead.
    input_data = 4 * math.prod(net.input_shape)
    return replace(
        one,
        input_shape=(b, *net.input_shape),
        rows=tuple(replace(r, output_shape=(b, *r.output_shape[1:]), mult_adds=b * r.mult_adds) for r in one.rows),
        total_mult_adds=b * one.total_mult_adds,
        input_bytes=one.input_bytes + (b - 1) * input_data,
        forward_backward_bytes=b * one.forward_backward_bytes,
    )


def _ratio(a: float, b: float) -> float:
    if b:
        return a / b
    return math.inf if a else math.nan


# compare() key -> Summary field
_RATIO_FIELDS = {
    "params": "total_params",
    "trainable": "trainable_params",
    "mult_adds": "total_mult_adds",
    "forward_backward_mb": "forward_backward_mb",
    "params_mb": "params_mb",
    "total_mb": "total_mb",
}


def compare(a: Summary, b: Summary) -> dict[str, float]:
    """Ratios a / b of the totals, keyed params, trainable, mult_adds, forward_backward_mb, params_mb, total_mb."""
    return {key: _ratio(getattr(a, field), getattr(b, field)) for key, field in _RATIO_FIELDS.items()}


def macs_note(s: Summary) -> str | None:
    """Where the multiply-adds of a layer torchinfo does not know come from, or None when there is none."""
    custom = sorted({r.type for r in s.rows if r.type in CUSTOM_LAYERS})
    if not custom:
        return None
    return (f"torchinfo cannot count the multiply-adds of {', '.join(custom)} (not a torch layer): they are computed "
            f"here from the shape arithmetic — each weight multiplies one input per image and each output adds its "
            f"bias once, so a locally connected layer costs exactly what the convolution with the same windows "
            f"costs.")


def cost_frame(summaries: tuple[Summary, ...]) -> pd.DataFrame:
    """Per model: parameters and multiply-adds for one image, and each as a multiple of the first model's."""
    first = summaries[0]
    per_image = [s.total_mult_adds // s.input_shape[0] for s in summaries]
    return pd.DataFrame({
        "Model": [s.net_name for s in summaries],
        "Parameters": [s.total_params for s in summaries],
        "Parameters (× the first)": [round(_ratio(s.total_params, first.total_params), 2) for s in summaries],
        "Multiply-adds per image": per_image,
        "Multiply-adds (× the first)": [round(_ratio(m, per_image[0]), 2) for m in per_image],
        "Multiply-adds per parameter": [round(_ratio(m, s.total_params), 1) for m, s in zip(per_image, summaries)],
    })


def summary_frame(s: Summary) -> pd.DataFrame:
    """The rows of a summary as a table for display."""
    return pd.DataFrame(
        {
            "Layer": [r.name for r in s.rows],
            "Output shape": [str(list(r.output_shape)) for r in s.rows],
            "Kernel": [r.kernel for r in s.rows],
            "Params": [r.params for r in s.rows],
            "% of params": [round(r.params_percent, 2) for r in s.rows],
            "Mult-adds": [r.mult_adds for r in s.rows],
        }
    )


def totals_frame(s: Summary) -> pd.DataFrame:
    """The totals of a summary as a two-column table (what torchinfo prints under its rows)."""
    items = {
        "Total params": f"{s.total_params:,}",
        "Trainable params": f"{s.trainable_params:,}",
        "Non-trainable params": f"{s.total_params - s.trainable_params:,}",
        "Total mult-adds (M)": f"{s.total_mult_adds / 1e6:.2f}",
        "Input size (MB)": f"{s.input_mb:.2f}",
        "Forward/backward pass size (MB)": f"{s.forward_backward_mb:.2f}",
        "Params size (MB)": f"{s.params_mb:.2f}",
        "Estimated total size (MB)": f"{s.total_mb:.2f}",
    }
    return pd.DataFrame({"Total": list(items), "Value": list(items.values())})
