"""Named architectures from the seed tutorials, and an FC net sized to match a CNN's parameter budget."""
from __future__ import annotations

import math
from dataclasses import replace

from cnn_dash.specs import LayerSpec, ModelConfig, NetSpec, OptimizerSpec, TrainSettings

L = LayerSpec.of


def _net(name: str, description: str, *layers: LayerSpec) -> NetSpec:
    return NetSpec(name=name, layers=tuple(layers), description=description)


def _mlp(name: str, description: str, *hidden: int, out_features: int = 10, norm: bool = False) -> NetSpec:
    layers = [L("Flatten")]
    for width in hidden:
        layers += [L("Linear", out_features=width), *([L("BatchNorm1d")] if norm else []), L("ReLU")]
    return _net(name, description, *layers, L("Linear", out_features=out_features))


def _small_cnn(name: str, description: str, channels: int, hidden: int = 0, kind: str = "Conv2d") -> NetSpec:
    """Two stride-2 5×5 convolutions (channels, then twice as many), each with batch norm and ReLU; Linear to 10,
    through `hidden` ReLU units if asked. kind="LocallyConnected2d": the same windows, unshared weights."""
    head = (L("Linear", out_features=hidden), L("ReLU")) if hidden else ()
    return _net(
        name, description,
        L(kind, out_channels=channels, kernel_size=5, stride=2, padding=2),  # (C, 14, 14)
        L("BatchNorm2d"),
        L("ReLU"),
        L(kind, out_channels=2 * channels, kernel_size=5, stride=2, padding=2),  # (2C, 7, 7)
        L("BatchNorm2d"),
        L("ReLU"),
        L("Flatten"),  # (2C * 49,)
        *head,
        L("Linear", out_features=10),
    )


# in_channels / in_features are left out on purpose: the network infers them from the shape arithmetic.
_SEED_CONVNET = (
    L("Conv2d", out_channels=16, kernel_size=3, stride=1, padding=1),  # (16, 28, 28)
    L("MaxPool2d", kernel_size=2, stride=2, padding=0),  # (16, 14, 14)
    L("Conv2d", out_channels=32, kernel_size=3, stride=1, padding=0),  # (32, 12, 12)
    L("MaxPool2d", kernel_size=2, stride=2, padding=1),  # (32, 7, 7)
    L("Conv2d", out_channels=64, kernel_size=1, stride=1, padding=0),  # (64, 7, 7)
    L("Conv2d", out_channels=4, kernel_size=5, stride=1, padding=0),  # (4, 3, 3)
    L("Flatten"),  # (36,)
    L("Linear", out_features=10),
)


def _with_relu_after_convs(layers: tuple[LayerSpec, ...]) -> tuple[LayerSpec, ...]:
    out: list[LayerSpec] = []
    for layer in layers:
        out.append(layer)
        if layer.type == "Conv2d":
            out.append(L("ReLU"))
    return tuple(out)


_PRESET_LIST = (
    _net(
        "ConvNet (CNN notebook)",
        "The ConvNet of the 'Convolutional Neural Networks' notebook, layer for layer: four convolutions, two "
        "max-pools and Linear 36→10, 13,686 parameters. As in the notebook it has no activation at all, so "
        "the whole network is linear between its max-pools.",
        *_SEED_CONVNET,
    ),
    _net(
        "ConvNet + ReLU (CNN notebook)",
        "The notebook's ConvNet with a ReLU after every convolution: the same 13,686 parameters, but now "
        "non-linear. Not in the notebook; added to show that activations cost no parameters.",
        *_with_relu_after_convs(_SEED_CONVNET),
    ),
    _small_cnn(
        "Small CNN (batch norm)",
        "Two stride-2 5×5 convolutions (8, 16 channels), each with batch norm and ReLU, then Linear 784→10: "
        "11,322 parameters, about as many as the FCNet. Batch norm lets it learn from the first few dozen "
        "steps, and stride-2 convolutions are cheaper on a CPU than max-pooling: the Training page's default CNN.",
        8,
    ),
    _small_cnn(
        "Small CNN ×2 (batch norm)",
        "The small CNN with twice the channels (16, 32): 29,034 parameters. Beside it, the 'MLP 784-37-10' has "
        "about as many.",
        16,
    ),
    _small_cnn(
        "Small CNN 12-24 + hidden 128 (batch norm)",
        "The small CNN with 12 and 24 channels and a hidden layer of 128 ReLU units before the output: "
        "159,554 parameters, 94% of them in Linear 1,176→128. The CNN of the 99% race: the hidden layer takes it "
        "past 99.0% within three epochs of MNIST (bench/bench_race.py).",
        12, 128,
    ),
    _mlp(
        "FCNet (CNN notebook)",
        "The FCNet of the 'Convolutional Neural Networks' notebook: 784→16→10, 12,730 parameters, chosen to "
        "be close to the ConvNet's 13,686. The notebook also applies ReLU to the output; it is dropped here "
        "because clipping logits at 0 hurts cross-entropy training (the parameter count is the same).",
        16,
    ),
    _net(
        "Two-block 5×5 CNN (2020 tutorial)",
        "Two Conv(5×5, padding 2) + ReLU + MaxPool(2) blocks with 32 and 64 channels, dropout, then "
        "Linear 3136→1000→10 (no activation between the two linear layers, as in the tutorial): "
        "3,199,106 parameters, 98% of them in the first linear layer.",
        L("Conv2d", out_channels=32, kernel_size=5, stride=1, padding=2),  # (32, 28, 28)
        L("ReLU"),
        L("MaxPool2d", kernel_size=2, stride=2),  # (32, 14, 14)
        L("Conv2d", out_channels=64, kernel_size=5, stride=1, padding=2),  # (64, 14, 14)
        L("ReLU"),
        L("MaxPool2d", kernel_size=2, stride=2),  # (64, 7, 7)
        L("Flatten"),  # (3136,)
        L("Dropout", p=0.5),
        L("Linear", out_features=1000),
        L("Linear", out_features=10),
    ),
    _net(
        "One-block CNN (Conv2d guide)",
        "The Fashion-MNIST model of the nn.Conv2d / MaxPool2d guide: Conv 1→4 (3×3), ReLU, MaxPool(2), "
        "then Linear 676→64→10: 44,018 parameters.",
        L("Conv2d", out_channels=4, kernel_size=3),  # (4, 26, 26)
        L("ReLU"),
        L("MaxPool2d", kernel_size=2),  # (4, 13, 13)
        L("Flatten"),  # (676,)
        L("Linear", out_features=64),
        L("ReLU"),
        L("Linear", out_features=10),
    ),
    _net(
        "Three-conv 'same' CNN (Fashion-MNIST tutorial)",
        "Three 3×3 convolutions with padding='same' (32, 16, 8 channels), each followed by ReLU, then "
        "Linear 6272→10: 68,834 parameters. Without pooling the image stays 28×28, so the linear layer "
        "holds 91% of them.",
        L("Conv2d", out_channels=32, kernel_size=3, padding="same"),  # (32, 28, 28)
        L("ReLU"),
        L("Conv2d", out_channels=16, kernel_size=3, padding="same"),  # (16, 28, 28)
        L("ReLU"),
        L("Conv2d", out_channels=8, kernel_size=3, padding="same"),  # (8, 28, 28)
        L("ReLU"),
        L("Flatten"),  # (6272,)
        L("Linear", out_features=10),
    ),
    _net(
        "LeNet-5",
        "LeCun's LeNet-5 (1998) with its classic 6 and 16 channels and 120/84/10 units, adapted to 28×28 "
        "input by padding 2 on the first convolution and modernised with ReLU and max-pooling: "
        "61,706 parameters.",
        L("Conv2d", out_channels=6, kernel_size=5, padding=2),  # (6, 28, 28)
        L("ReLU"),
        L("MaxPool2d", kernel_size=2),  # (6, 14, 14)
        L("Conv2d", out_channels=16, kernel_size=5),  # (16, 10, 10)
        L("ReLU"),
        L("MaxPool2d", kernel_size=2),  # (16, 5, 5)
        L("Flatten"),  # (400,)
        L("Linear", out_features=120),
        L("ReLU"),
        L("Linear", out_features=84),
        L("ReLU"),
        L("Linear", out_features=10),
    ),
    _small_cnn(
        "Small locally connected net (batch norm)",
        "The 'Small CNN (batch norm)' with LocallyConnected2d layers: the same 5×5 windows, channels and batch norm, "
        "but its own kernel at every output position (14×14, then 7×7): 206,250 parameters, the same 206,250 "
        "multiply-adds per image as the CNN. Locality without weight sharing.",
        8, kind="LocallyConnected2d",
    ),
    _mlp("FC net with the small CNN's widths",
         "Fully connected layers between tensors of the small CNN's sizes: 784→1,568 (8×14×14)→784 (16×7×7)→10, "
         "each hidden layer with batch norm and ReLU: 2,473,530 parameters. The same depth, widths and batch norm as "
         "the small CNN and its locally connected twin, but every unit sees the whole image: neither locality nor "
         "weight sharing.", 1568, 784, norm=True),
    _net(
        "Shift-tolerant CNN (global max pool)",
        "Built to read a digit wherever it is drawn, and drawn smaller: a stride-2 5×5 convolution (8 channels), "
        "then two 3×3 convolutions (16, 32), each with batch norm and ReLU, so each of the last layer's units sees "
        "a 13×13 patch, a stroke rather than a whole digit; then the largest answer of each channel over all 14×14 "
        "positions (global max pooling) and Linear 32→10: 6,458 parameters. No weight belongs to a position. The "
        "draw page's pair for drawing off-centre or small (presets.placement_pair); bench/bench_placement.py "
        "measures it on moved and shrunk test digits.",
        L("Conv2d", out_channels=8, kernel_size=5, stride=2, padding=2),  # (8, 14, 14)
        L("BatchNorm2d"),
        L("ReLU"),
        L("Conv2d", out_channels=16, kernel_size=3, padding=1),  # (16, 14, 14)
        L("BatchNorm2d"),
        L("ReLU"),
        L("Conv2d", out_channels=32, kernel_size=3, padding=1),  # (32, 14, 14)
        L("BatchNorm2d"),
        L("ReLU"),
        L("MaxPool2d", kernel_size=14),  # (32, 1, 1): global max pooling, a pool over the whole map
        L("Flatten"),  # (32,)
        L("Linear", out_features=10),
    ),
    _mlp("MLP 784-37-10", "A one-hidden-layer perceptron with 37 ReLU units: 29,425 parameters, about as many as "
         "the 'Small CNN ×2 (batch norm)'.", 37),
    _mlp("MLP 784-128-10", "A one-hidden-layer perceptron with 128 ReLU units: 101,770 parameters.", 128),
    _mlp(
        "MLP 784-256-128-10",
        "A two-hidden-layer perceptron (256 and 128 ReLU units): 235,146 parameters.",
        256,
        128,
    ),
)

PRESETS: dict[str, NetSpec] = {net.name: net for net in _PRESET_LIST}


def cnn_presets() -> dict[str, NetSpec]:
    """The presets that contain a convolution."""
    return {name: net for name, net in PRESETS.items() if net.is_cnn}


def fc_presets() -> dict[str, NetSpec]:
    """The presets without a convolution (fully connected nets)."""
    return {name: net for name, net in PRESETS.items() if not net.is_cnn}


def fc_param_count(in_features: int, width: int, hidden_layers: int, out_features: int) -> int:
    """Parameters of an MLP with `hidden_layers` hidden layers of `width` units (weights and biases)."""
    # in*w + w  +  (n-1) * (w*w + w)  +  w*out + out
    return (hidden_layers - 1) * width * width + (in_features + hidden_layers + out_features) * width + out_features


def matched_width(target: int, in_features: int, hidden_layers: int = 1, out_features: int = 10) -> int:
    """The hidden width (>= 1) whose MLP parameter count is closest to `target`; ties go to the smaller."""
    a = hidden_layers - 1
    b = in_features + hidden_layers + out_features
    c = out_features - target
    # Real root of a*w^2 + b*w + c = 0; the count grows with w, so the best integer is next to it.
    root = -c / b if a == 0 else (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)
    candidates = {max(1, math.floor(root)), max(1, math.ceil(root))}
    return min(
        sorted(candidates),
        key=lambda w: abs(fc_param_count(in_features, w, hidden_layers, out_features) - target),
    )


def _out_features(net: NetSpec) -> int:
    linears = [layer for layer in net.layers if layer.type == "Linear"]
    return int(linears[-1].get("out_features")) if linears else 10


def matched_fc(cnn: NetSpec, input_shape: tuple[int, ...] | None = None, hidden_layers: int = 1) -> NetSpec:
    """An MLP with `hidden_layers` equal hidden layers whose parameter count is closest to `cnn`'s."""
    from cnn_dash.shapes import net_cost

    input_shape = tuple(input_shape or cnn.input_shape)
    target = net_cost(replace(cnn, input_shape=input_shape))[0]
    in_features = math.prod(input_shape)
    out_features = _out_features(cnn)
    width = matched_width(target, in_features, hidden_layers, out_features)
    params = fc_param_count(in_features, width, hidden_layers, out_features)
    sizes = "-".join(str(n) for n in (in_features, *[width] * hidden_layers, out_features))
    return replace(
        _mlp(
            f"MLP {sizes} (matched)",
            f"A fully connected net sized to {cnn.name}: {params:,} parameters against its {target:,}.",
            *[width] * hidden_layers,
            out_features=out_features,
        ),
        input_shape=input_shape,
    )


def quick_demo(dataset: str = "MNIST") -> tuple[TrainSettings, tuple[ModelConfig, ...]]:
    """The classroom preset: 48,000 training images in batches of 256, the small CNN beside a one-hidden-layer
    MLP with 9x its parameters, both with a cosine-decayed Adam: about 98.6% for the CNN on MNIST after two
    epochs, in 6–8 s on two CPU cores (bench/bench_train.py). Batches of 256 with twice the learning
    rates of batches of 128 train as well in fewer, cheaper steps."""
    settings = TrainSettings(dataset=dataset, train_subset=48_000, batch_size=256, epochs=2, seed=0,
                             evals_per_epoch=1, lr_decay=True)
    return settings, (
        ModelConfig.lettered("A", PRESETS["Small CNN (batch norm)"], OptimizerSpec("adam", 0.008)),
        ModelConfig.lettered("B", PRESETS["MLP 784-128-10"], OptimizerSpec("adam", 0.004)),
    )


def placement_pair(dataset: str = "MNIST", train_size: int | None = None) -> tuple[TrainSettings,
                                                                                  tuple[ModelConfig, ...]]:
    """The draw page's pair for digits drawn off-centre: the shift-tolerant CNN beside the Quick demo's FC net, on
    the Quick demo's settings (the same batches in the same order), on at most `train_size` images. The Quick demo's
    own CNN ends in a Linear layer over its 7×7 maps, so it fails on moved digits as the FC net does
    (tests/test_placement.py)."""
    settings, (_, fc) = quick_demo(dataset)
    if train_size is not None and settings.train_subset:
        settings = replace(settings, train_subset=min(settings.train_subset, train_size))
    return settings, (ModelConfig.lettered("A", PRESETS["Shift-tolerant CNN (global max pool)"],
                                           OptimizerSpec("adam", 0.008)), fc)
