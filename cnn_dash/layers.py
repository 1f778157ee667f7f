"""Layers torch does not have. `LocallyConnected2d`: a convolution's windows without its weight sharing.

A convolution slides one kernel over every position; a locally connected layer reads exactly the same windows but
has its own kernel at every output position. Between a fully connected layer (every output sees every input) and a
convolution (small windows, one shared kernel) it separates the two ideas: locality, then sharing.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def _pair(value: int | tuple[int, ...] | list[int], name: str, one_for_both: bool = True) -> tuple[int, int]:
    """(height, width) from one int or two; like F.conv2d, a 1-tuple stride, padding or dilation means both."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) == 1 and one_for_both:
        pair = pair * 2
    if len(pair) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in pair):
        raise ValueError(f"{name} must be an int or two ints (height, width), not {value!r}")
    return pair  # type: ignore[return-value]


class LocallyConnected2d(nn.Module):
    """Conv2d's windows (kernel_size, stride, padding, dilation) with separate weights at every output position.

    It must know its input's (height, width), `in_size`, to know how many positions there are. Parameters:
    `weight` (out_h*out_w, out_channels, in_channels*kh*kw) and `bias` (out_channels, out_h, out_w).
    """

    helpers = ("_pair",)  # module-level functions it calls (build.to_code writes them out with the class)

    def __init__(self, in_channels: int, out_channels: int, kernel_size, in_size, stride=1, padding=0,
                 dilation=1, bias: bool = True):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _pair(kernel_size, "kernel_size", one_for_both=False)  # as nn.Conv2d
        self.in_size = _pair(in_size, "in_size", one_for_both=False)
        self.stride, self.padding = _pair(stride, "stride"), _pair(padding, "padding")
        self.dilation = _pair(dilation, "dilation")
        if min(in_channels, out_channels, *self.kernel_size, *self.stride, *self.dilation, *self.in_size) < 1 \
                or min(self.padding) < 0:
            raise ValueError("channels, kernel_size, in_size, stride and dilation must be positive, padding >= 0")
        self.out_size = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1 for n, k, s, p, d in
                              zip(self.in_size, self.kernel_size, self.stride, self.padding, self.dilation))
        if min(self.out_size) < 1:
            raise ValueError(f"the kernel {self.kernel_size} does not fit the padded input {self.in_size}")
        fan_in = in_channels * math.prod(self.kernel_size)
        positions = math.prod(self.out_size)
        self.weight = nn.Parameter(torch.empty(positions, out_channels, fan_in))
        self.bias = nn.Parameter(torch.empty(out_channels, *self.out_size)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Conv2d's default initialisation, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), at every position."""
        bound = 1 / math.sqrt(self.weight.shape[-1])
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[-2:]) != self.in_size or x.dim() != 4 or x.shape[1] != self.in_channels:
            raise RuntimeError(f"LocallyConnected2d expects (B, {self.in_channels}, {self.in_size[0]}, "
                               f"{self.in_size[1]}), got {tuple(x.shape)}")
        cols = F.unfold(x, self.kernel_size, self.dilation, self.padding, self.stride)  # (B, C*kh*kw, L)
        # position l's own kernel (O, C*kh*kw) times the window it reads; a batched matmul over positions
        out = torch.einsum("bkl,lok->bol", cols, self.weight)  # (B, O, L)
        out = out.reshape(x.shape[0], self.out_channels, *self.out_size)  # (B, O, out_h, out_w)
        return out if self.bias is None else out + self.bias

    @classmethod
    def tied_to(cls, conv: nn.Conv2d, in_size: tuple[int, int]) -> "LocallyConnected2d":
        """A locally connected copy of `conv` whose every position holds the convolution's kernel: the two
        compute the same function, which is what weight sharing means."""
        local = cls(conv.in_channels, conv.out_channels, conv.kernel_size, in_size, conv.stride, conv.padding,
                    conv.dilation, bias=conv.bias is not None)
        with torch.no_grad():
            local.weight.copy_(conv.weight.flatten(1).expand_as(local.weight))  # (O, C*kh*kw) at every position
            if conv.bias is not None:
                local.bias.copy_(conv.bias[:, None, None].expand_as(local.bias))
        return local

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, in_size={self.in_size}, "
                f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}, "
                f"bias={self.bias is not None}")


CUSTOM_LAYERS: dict[str, type[nn.Module]] = {"LocallyConnected2d": LocallyConnected2d}


def layer_class(type_name: str) -> type[nn.Module]:
    """The module class a spec's type names: torch.nn's, or one of this module's."""
    return CUSTOM_LAYERS.get(type_name) or getattr(nn, type_name)
