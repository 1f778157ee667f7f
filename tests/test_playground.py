"""The convolution playground against torch: nn.Conv2d / nn.MaxPool2d / nn.AvgPool2d modules and their shapes."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from torch import nn

from cnn_dash import playground, shapes
from cnn_dash.build import build_model
from cnn_dash.data import load_dataset
from cnn_dash.inference import model_input
from cnn_dash.features import feature_maps
from cnn_dash.specs import LayerSpec, NetSpec
from cnn_dash.specs import TrainSettings
from tests.test_evaluation_page import TINY_CNN

L = LayerSpec.of


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return load_dataset("MNIST", source="bundled").test_images[5].numpy()


def conv_module(kernel: np.ndarray, stride: int, padding: int, dilation: int) -> nn.Conv2d:
    """The oracle: torch's own layer holding the same kernel."""
    conv = nn.Conv2d(1, 1, kernel.shape, stride=stride, padding=padding, dilation=dilation, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.as_tensor(kernel)[None, None])
    return conv


@pytest.mark.parametrize("name", list(playground.PRESETS))
def test_every_preset_equals_torch_and_the_shape_calculator(image, name):
    kernel = playground.preset(name)
    for stride, padding, dilation in itertools.product((1, 2, 3), (0, 1, 2), (1, 2)):
        result = playground.apply_kernel(image, kernel, stride, padding, dilation)
        with torch.no_grad():
            x = torch.as_tensor(image / 255.0).float()[None, None]  # (1, 1, 28, 28)
            expected = conv_module(kernel, stride, padding, dilation)(x)
        np.testing.assert_allclose(result.output, expected[0, 0].numpy(), rtol=1e-5, atol=1e-6)
        layer = LayerSpec.of("Conv2d", in_channels=1, out_channels=1, kernel_size=kernel.shape, stride=stride,
                             padding=padding, dilation=dilation)
        assert result.shape == shapes.output_shape(layer, (1, 28, 28)) == tuple(expected.shape[1:])


def test_presets_mean_what_they_say(image):
    identity = playground.apply_kernel(image, playground.preset("Identity"), padding=1).output
    np.testing.assert_allclose(identity, image / 255.0, atol=1e-6)
    sobel_x, sobel_y = playground.preset("Sobel x (vertical edges)"), playground.preset("Sobel y (horizontal edges)")
    assert np.array_equal(sobel_y, sobel_x.T)
    for name in ("Box blur 3×3", "Box blur 5×5", "Sharpen", "Identity"):
        assert playground.preset(name).sum() == pytest.approx(1.0)  # brightness kept
    assert playground.preset("Edge (Laplacian)").sum() == 0  # flat regions answer 0


def test_an_own_kernel_of_any_size(image):
    kernel = np.arange(25, dtype=np.float32).reshape(5, 5) - 12
    result = playground.apply_kernel(image, kernel, stride=2, padding=2)
    with torch.no_grad():
        expected = conv_module(kernel, 2, 2, 1)(torch.as_tensor(image / 255.0).float()[None, None])
    np.testing.assert_allclose(result.output, expected[0, 0].numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("stride, padding, dilation, message", [
    (1, 0, 10, "larger than the padded input"),
    (3, 0, 7, "larger than the padded input"),  # 5 taps 7 apart span 29 pixels
])
def test_settings_torch_refuses_are_explained(image, stride, padding, dilation, message):
    with pytest.raises(shapes.ShapeError, match=message):
        playground.apply_kernel(image, playground.preset("Box blur 5×5"), stride, padding, dilation)


def test_an_empty_cell_in_an_own_kernel_is_explained(image):
    kernel = np.eye(3, dtype=np.float32)
    kernel[1, 1] = np.nan
    with pytest.raises(shapes.ShapeError, match="finite numbers"):
        playground.apply_kernel(image, kernel)


@pytest.mark.parametrize("kind, size", [("MaxPool2d", 2), ("AvgPool2d", 2), ("MaxPool2d", 3), ("AvgPool2d", 3)])
def test_pooling_equals_torch(image, kind, size):
    feature = playground.apply_kernel(image, playground.preset("Sobel x (vertical edges)")).output  # (26, 26)
    pooled, shape = playground.pool(feature, kind, size)
    with torch.no_grad():
        expected = getattr(nn, kind)(size)(torch.as_tensor(feature)[None, None])[0]
    np.testing.assert_allclose(pooled, expected[0].numpy(), rtol=1e-6, atol=1e-7)
    assert shape == tuple(expected.shape) == shapes.output_shape(L(kind, kernel_size=size), (1, 26, 26))


def test_pooling_a_too_small_output_is_explained():
    with pytest.raises(shapes.ShapeError):
        playground.pool(np.zeros((1, 1), dtype=np.float32), "MaxPool2d", 2)


@pytest.mark.parametrize("shuffled", [False, True])
def test_a_trained_cnns_first_layer_is_its_first_feature_maps(image, shuffled):
    torch.manual_seed(2)
    model = build_model(TINY_CNN).eval()
    settings = TrainSettings("MNIST", permute_pixels=shuffled, seed=5)
    maps = playground.apply_first_layer(model, image, settings)
    unshuffled = model_input(image[None], TrainSettings("MNIST"))[0]  # the playground never shuffles
    expected = feature_maps(model, unshuffled)[0].maps
    np.testing.assert_allclose(maps, expected, rtol=1e-5, atol=1e-5)
    assert maps.shape == (6, 28, 28)


def test_a_first_layer_with_reflect_padding_matches_the_module(image):
    net = NetSpec("reflect", (L("Conv2d", out_channels=4, kernel_size=3, padding=1, padding_mode="reflect"),
                              L("Flatten"), L("Linear", out_features=10)))
    model = build_model(net).eval()
    maps = playground.apply_first_layer(model, image, TrainSettings("MNIST"))
    np.testing.assert_allclose(maps, feature_maps(model, model_input(image[None], TrainSettings("MNIST"))[0])[0].maps,
                               rtol=1e-5, atol=1e-5)


def test_an_fc_net_has_no_first_convolution(image):
    fc = build_model(NetSpec("fc", (L("Flatten"), L("Linear", out_features=10))))
    assert playground.first_conv(fc) is None
    with pytest.raises(ValueError, match="no convolution"):
        playground.apply_first_layer(fc, image, TrainSettings("MNIST"))
