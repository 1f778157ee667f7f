"""How a run's models see an image and answer: the run's pixel order, its scaling, where a model lives
(channels-last on a CPU), and answers in batches.

The one face of a trained run: the training engine, the run record and every feature (Evaluation, Try it
yourself, shift robustness, the playground) ask this module, so a drawing, a test image and a training batch
reach a model the same way. It never imports the training engine (cnn_dash.train imports it).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from cnn_dash import features
from cnn_dash.build import build_model
from cnn_dash.data import Dataset, Stats, input_stats, load_dataset, normalize
from cnn_dash.metrics import EVAL_BATCH, batched_logits
from cnn_dash.specs import ModelConfig, TrainSettings

PIXEL_ORDER = 1  # the seed's stream for the pixel order (see `seeded_stream`)


def seeded_stream(seed: int, salt: int) -> torch.Generator:
    """An independent random stream per purpose (0 subset, 1 pixel order, 2 batch order, 3 dropout)."""
    return torch.Generator().manual_seed(seed * 4 + salt)


def pixel_permutation(settings: TrainSettings, pixels: int = 28 * 28) -> torch.Tensor | None:
    """The run's fixed pixel order (drawn by the seed alone), or None when pixels are not shuffled."""
    if not settings.permute_pixels:
        return None
    return torch.randperm(pixels, generator=seeded_stream(settings.seed, PIXEL_ORDER))


def permute_pixels(images: torch.Tensor, permutation: torch.Tensor) -> torch.Tensor:
    """Images (N, H, W) with their pixels reordered by `permutation` (H*W,)."""
    return images.flatten(1)[:, permutation].view(images.shape)  # (N, H*W) -> (N, H, W)


def in_run_order(images: torch.Tensor, settings: TrainSettings) -> torch.Tensor:
    """uint8 images (N, H, W) as a person sees them -> as the run's models see them: pixel-shuffled if the run was."""
    permutation = pixel_permutation(settings, images.shape[-2] * images.shape[-1])
    return images if permutation is None else permute_pixels(images, permutation)


def as_seen(image: np.ndarray, settings: TrainSettings) -> np.ndarray:
    """One uint8 image (28, 28) as the run's models see it: pixel-shuffled if the run was."""
    return in_run_order(torch.as_tensor(image)[None], settings)[0].numpy()


def stats(settings: TrainSettings) -> Stats:
    """The (mean, std) the run's inputs are standardised with."""
    return input_stats(settings.dataset, settings.scaling)


def evaluation_set(settings: TrainSettings, dataset: Dataset | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The full test set as the run sees it: uint8 (M, 28, 28) images, pixel-permuted if asked, and labels."""
    ds = dataset or load_dataset(settings.dataset, source=settings.source)
    return in_run_order(ds.test_images, settings), ds.test_labels


def model_input(images: np.ndarray | torch.Tensor, settings: TrainSettings) -> torch.Tensor:
    """uint8 (B, 28, 28) as a person sees them -> float32 (B, 1, 28, 28) as the run's models saw their images:
    pixel-shuffled if the run was, then standardised."""
    x = torch.tensor(np.asarray(images, dtype=np.uint8))  # a copy: the page may hand a read-only array
    return normalize(in_run_order(x, settings), stats(settings))


def is_cnn(model: nn.Module) -> bool:
    """True when the module has a 2-D convolution."""
    return any(isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) for m in model.modules())


def placed(model: nn.Module, device: torch.device | str = "cpu") -> nn.Module:
    """The model on `device`; on a CPU a CNN in channels-last memory format, where its convolutions and max-pools
    run faster (the seed ConvNet trains about 1.5x faster: bench/bench_train.py; a small CNN evaluates up to
    twice as fast). Inputs need no change: a convolution with channels-last weights answers in channels-last."""
    model = model.to(device)
    if torch.device(device).type == "cpu" and is_cnn(model):
        model = model.to(memory_format=torch.channels_last)
    return model


def trained(models: Sequence[ModelConfig], weights: Mapping[str, Mapping[str, torch.Tensor]],
            device: torch.device | str = "cpu") -> dict[str, nn.Module]:
    """Label -> a module built from its spec with its trained weights, placed as it trained, in eval mode (only
    the models that have weights)."""
    out = {}
    for m in models:
        if m.label in weights:
            model = placed(build_model(m.net), device)
            model.load_state_dict(weights[m.label])
            out[m.label] = model.eval()
    return out


def logits(model: nn.Module, images: torch.Tensor, settings: TrainSettings,
           batch_size: int = EVAL_BATCH) -> torch.Tensor:
    """Logits (N, classes) of one of the run's models on uint8 images (N, H, W) as a person sees them, in batches."""
    return batched_logits(model, in_run_order(images, settings), stats(settings), batch_size)


def probabilities(models: Mapping[str, nn.Module], image: np.ndarray,
                  settings: TrainSettings) -> dict[str, np.ndarray]:
    """Label -> softmax probabilities of every class (10,) for one uint8 image (28, 28), every model."""
    x = torch.tensor(np.asarray(image, dtype=np.uint8))[None]  # (1, 28, 28)
    return {label: torch.softmax(logits(model, x, settings), dim=1)[0].numpy() for label, model in models.items()}


def feature_maps(model: nn.Module, image: np.ndarray, settings: TrainSettings) -> list[features.FeatureMaps]:
    """Every convolution's feature maps for one uint8 image (28, 28) as a person sees it, fed as in training."""
    return features.feature_maps(model, model_input(np.asarray(image)[None], settings)[0])
