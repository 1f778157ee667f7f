"""Architectures as frozen, hashable specs: a layer is torch's class name plus its constructor kwargs."""
from __future__ import annotations

import math
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

    @property
    def is_local(self) -> bool:
        """True when the network has a locally connected layer (a convolution's windows, no shared weights)."""
        return any(layer.type == "LocallyConnected2d" for layer in self.layers)


@dataclass(frozen=True)
class OptimizerSpec:
    """An optimizer: "sgd" with lr and momentum, or "adam" with lr (train.make_optimizer builds it)."""

    name: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.0

    @property
    def brief(self) -> str:
        """'Adam 0.001' or 'SGD 0.05': the optimizer and its learning rate, as a model's label shows them."""
        return f"{'Adam' if self.name == 'adam' else 'SGD'} {self.lr:g}"

    def __str__(self) -> str:
        if self.name == "adam":
            return f"Adam(lr={self.lr:g})"
        return f"SGD(lr={self.lr:g}, momentum={self.momentum:g})"


@dataclass(frozen=True)
class ModelConfig:
    """One model of a run: a unique label (its key in progress records and exports), its architecture, its
    optimizer, and the form's letter for it ("A"; empty for a model named in full, e.g. a tutorial's).
    Pages read the short names from the fields below; no code takes a label apart."""

    label: str
    net: NetSpec
    optimizer: OptimizerSpec = OptimizerSpec()
    letter: str = ""

    @classmethod
    def lettered(cls, letter: str, net: NetSpec, optimizer: OptimizerSpec = OptimizerSpec()) -> ModelConfig:
        """A form's model, labelled from its fields: 'A · Small CNN (batch norm) (Adam 0.001)'."""
        return cls(f"{letter} · {net.name} ({optimizer.brief})", net, optimizer, letter)

    @property
    def short(self) -> str:
        """'A' for a lettered model, else the whole label: the name of a table column or a score."""
        return self.letter or self.label

    @property
    def named(self) -> str:
        """'A · Small CNN (batch norm)': the letter and the network, without the optimizer; else the label."""
        return f"{self.letter} · {self.net.name}" if self.letter else self.label

    @property
    def detail(self) -> str:
        """'Small CNN (batch norm) (Adam 0.001)': what the letter stands for; else the label."""
        return f"{self.net.name} ({self.optimizer.brief})" if self.letter else self.label


SCALINGS = ("standardise", "divide")  # pixel/255, then minus the dataset's mean over its std; or pixel/255 only


@dataclass(frozen=True)
class TrainSettings:
    """What a run trains on and how; one seed drives the subset, pixel permutation, init and batch order."""

    dataset: str = "MNIST"
    train_subset: int | None = None  # None: the whole training set
    batch_size: int = 64
    epochs: int = 1
    seed: int = 0
    permute_pixels: bool = False  # one fixed pixel shuffle, the same for train and test images
    evals_per_epoch: int = 1  # test-set evaluations per epoch (the last one at the epoch's end)
    lr_decay: bool = False  # cosine decay of every model's learning rate to 0 over the run
    source: str | None = None  # a data source to force (data.SOURCES), e.g. "bundled" in tests
    scaling: str = "standardise"  # one of SCALINGS
    # Augmentation: every training image moved by a random (dy, dx), each in -shift_pixels..shift_pixels (zero
    # fill), drawn from its own seeded stream, the same moves for every model that trains on shifted copies.
    shift_pixels: int = 0
    shifted_models: tuple[int, ...] | None = None  # positions of the models that see shifted copies; None: all


def batches_per_epoch(images: int, batch_size: int) -> int:
    """Optimizer steps in one epoch of `images`: batches of `batch_size`, the last one shorter, except that a last
    batch of a single image joins the one before it (batch norm over one image cannot train)."""
    steps = math.ceil(images / batch_size)
    return steps - 1 if steps > 1 and images % batch_size == 1 else steps
