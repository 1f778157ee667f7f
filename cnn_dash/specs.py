"""Architectures as frozen, hashable specs: a layer is torch's class name plus its constructor kwargs."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Constructor arguments that a network infers from the layer before it, so a stack never repeats them.
INFERRED_PARAMS = ("in_channels", "in_features", "num_features")


@dataclass(frozen=True)
class LayerSpec:
    """One layer: `type` is the torch.nn class name, `params` its keyword arguments as sorted pairs."""

    type: str
    params: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, type: str, **params: Any) -> LayerSpec:
        """Build a spec from keyword arguments; lists become tuples so the spec stays hashable."""
        norm = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
        return cls(type, tuple(sorted(norm.items())))

    def get(self, name: str, default: Any = None) -> Any:
        """The value of one constructor argument, or `default` when it is not set."""
        return dict(self.params).get(name, default)

    def kwargs(self) -> dict[str, Any]:
        """The constructor arguments as a dict."""
        return dict(self.params)


@dataclass(frozen=True)
class NetSpec:
    """A sequential network: its layers and the (C, H, W) input shape it expects, batch excluded."""

    name: str
    layers: tuple[LayerSpec, ...]
    input_shape: tuple[int, ...] = (1, 28, 28)
    description: str = field(default="", compare=False)

    @property
    def is_cnn(self) -> bool:
        """True when the network has at least one convolution."""
        return any(layer.type.startswith(("Conv", "ConvTranspose")) for layer in self.layers)
