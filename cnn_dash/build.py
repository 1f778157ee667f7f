"""From a network spec to a torch module, and to PyTorch code a student can paste and run."""
from __future__ import annotations

import inspect

from torch import nn

from cnn_dash.layers import CUSTOM_LAYERS, layer_class
from cnn_dash.shapes import SIGNATURES, resolve, trace
from cnn_dash.specs import LayerSpec, NetSpec


def build_model(net: NetSpec) -> nn.Sequential:
    """The network as torch.nn layers; sizes such as in_features come from the shape arithmetic."""
    return nn.Sequential(*(layer_class(layer.type)(**layer.kwargs()) for layer in resolve(net).layers))


def layer_code(layer: LayerSpec) -> str:
    """One layer as the PyTorch call that builds it, e.g. `nn.Conv2d(in_channels=1, out_channels=16, kernel_size=3)`."""
    kwargs = layer.kwargs()
    order = list(SIGNATURES[layer.type])  # torch's own argument order reads best
    args = ", ".join(f"{k}={kwargs[k]!r}" for k in sorted(kwargs, key=order.index))
    prefix = "" if layer.type in CUSTOM_LAYERS else "nn."  # a custom layer's class is written out by to_code
    return f"{prefix}{layer.type}({args})"


def to_code(net: NetSpec) -> str:
    """Self-contained PyTorch code: imports, `model = nn.Sequential(...)`, and a forward pass that checks the shape."""
    rows = trace(net)
    lines = ["import math", "", "import torch", "import torch.nn.functional as F", "from torch import nn", ""]
    for kind in dict.fromkeys(row.layer.type for row in rows if row.layer.type in CUSTOM_LAYERS):
        lines += [f"# torch has no {kind}: its definition, from cnn-dash's cnn_dash/layers.py", "",
                  *_source(kind).splitlines(), ""]
    lines += ["# Each comment is the layer's output shape for one input (the batch dimension left out).",
              "model = nn.Sequential("]
    lines += [f"    {layer_code(row.layer)},  # -> {row.out_shape}" for row in rows]
    out = (1, *rows[-1].out_shape) if rows else (1, *net.input_shape)
    lines += [")", ""]
    if any(layer.type.startswith(("BatchNorm", "Dropout")) for layer in net.layers):
        lines.append("model.eval()  # BatchNorm and Dropout as at test time")
    lines += [
        f"x = torch.randn{(1, *net.input_shape)}  # one input: (batch, {', '.join(_dims(len(net.input_shape)))})",
        "with torch.no_grad():",
        "    y = model(x)",
        f"print(y.shape)  # torch.Size({list(out)})",
        f"assert y.shape == {out}",
    ]
    return "\n".join(lines) + "\n"


def _dims(n: int) -> tuple[str, ...]:
    return {1: ("features",), 2: ("C", "L"), 3: ("C", "H", "W"), 4: ("C", "D", "H", "W")}.get(n, ("...",))


def _source(kind: str) -> str:
    """A custom layer's class and the helper it calls, as source a user can paste."""
    cls = CUSTOM_LAYERS[kind]
    helpers = [inspect.getsource(getattr(inspect.getmodule(cls), name)) for name in getattr(cls, "helpers", ())]
    return "\n\n".join([*helpers, inspect.getsource(cls)])
