"""Training page: the form of the next run (its models, optimizers and settings), checked before it can train."""
from __future__ import annotations

import streamlit as st

from cnn_dash import hints
from cnn_dash.limits import MAX_SHIFT, check_run, default_limits, describe, estimate_macs
from cnn_dash.specs import ModelConfig, OptimizerSpec, TrainSettings
from cnn_dash.ui import tutorials
from cnn_dash.ui.links import PageLink
from cnn_dash.ui.model_picker import model_picker
from cnn_dash.ui.training import LETTERS

# The defaults teach: each CNN (A, C) beats the FC net beside it (B, D) on both datasets from 1,000 images and
# one epoch up, with either optimizer's default learning rate (tests/test_defaults.py, over seeds).
DEFAULT_NETS = ("Small CNN (batch norm)", "FCNet (CNN notebook)", "Small CNN ×2 (batch norm)", "MLP 784-37-10")
DEFAULT_LR = {"SGD": 0.01, "Adam": 0.001}
DEFAULT_SUBSET = 10_000
BATCH_SIZES = (16, 32, 64, 128, 256, 512, 1024)


def optimizer_input(link: PageLink, key: str) -> OptimizerSpec:
    """SGD (learning rate, momentum) or Adam (learning rate), kept in the page's link. No bounds on the boxes: a
    value out of range reaches the page and is explained (a bounded box would keep its old value and train on
    it silently); a link's value must be in range."""
    name = link.radio("Optimizer", ("SGD", "Adam"), horizontal=True, key=f"{key}_name")
    lr = link.float_input("Learning rate", 0.0, default_limits().max_lr, DEFAULT_LR[name], key=f"{key}_lr_{name}",
                          lo_open=True, step=0.001, format="%.5f")
    if name == "Adam":
        return OptimizerSpec("adam", lr)
    momentum = link.float_input("Momentum", 0.0, 1.0, 0.9, key=f"{key}_mom", hi_open=True, step=0.05)
    return OptimizerSpec("sgd", lr, momentum)


def model_count(link: PageLink) -> int:
    """How many models train side by side: 2 to 4."""
    return int(link.radio("Models side by side", (2, 3, 4), horizontal=True, key="train_count"))


def model_inputs(link: PageLink, count: int) -> list[ModelConfig] | None:
    """2-4 models side by side, each a preset or custom stack with its optimizer; None if a stack is invalid."""
    configs: list[ModelConfig | None] = []
    for i, column in enumerate(st.columns(count)):
        with column, st.container(border=True):
            net = model_picker(f"train_model_{i}", kind="cnn" if i % 2 == 0 else "fc", default=DEFAULT_NETS[i],
                               label=f"Model {LETTERS[i]}", link=link)
            optimizer = optimizer_input(link, f"train_opt_{i}")
            configs.append(None if net is None else ModelConfig.lettered(LETTERS[i], net, optimizer))
    return None if any(c is None for c in configs) else configs  # type: ignore[return-value]


def settings_inputs(link: PageLink, dataset: str, train_size: int, count: int) -> TrainSettings:
    """Subset, batch size, epochs, seed, test evaluations, the pixel-shuffle, learning-rate decay and random shifts
    of `count` models, kept in the page's link.
    The boxes are unbounded (the core checks the values and the page explains them); a link's value must be
    within the limits."""
    lim = default_limits()
    top = st.columns(4)
    subset = link.number_input("Training images", lim.min_train_subset, min(train_size, lim.max_train_subset),
                               min(train_size, DEFAULT_SUBSET), key="train_subset", where=top[0], bounded=False,
                               step=1_000, help=f"A subset drawn by the seed, {lim.min_train_subset:,} to "
                                                f"{train_size:,}; the whole test set is always used.")
    batch = link.selectbox("Batch size", BATCH_SIZES, key="train_batch", index=BATCH_SIZES.index(64), where=top[1])
    epochs = link.number_input("Epochs", 1, lim.max_epochs, 2, key="train_epochs", where=top[2], bounded=False)
    seed = link.number_input("Seed", 0, lim.max_seed, 0, key="train_seed", where=top[3], bounded=False,
                             help="One seed sets the subset, the initial weights and the batch order of every "
                                  "model: the same seed gives the same curves.")
    left, middle, right = st.columns(3)
    evals = link.number_input("Test evaluations per epoch", 1, lim.max_evals_per_epoch, 2, key="train_evals",
                              where=left, bounded=False)
    permute = link.checkbox("Shuffle the pixels (one fixed permutation, the same for train and test)",
                            key="train_permute", where=right,
                            help="The inductive-bias experiment: an FC net does not care where a pixel is, "
                                 "a CNN does. Use the 'Small CNN (batch norm)', which still learns shuffled "
                                 "pixels: it ends level with the FC net instead of ahead.")
    decay = link.checkbox("Decay the learning rates to 0 (cosine)", key="train_decay", where=middle,
                          help="Every model's learning rate follows half a cosine from its value to 0 over the "
                               "run: steadier final accuracy in few epochs.")
    shift, shifted = shift_inputs(link, count)
    subset = int(subset)
    return TrainSettings(dataset, None if subset == train_size else subset, int(batch), int(epochs), int(seed),
                         bool(permute), int(evals), bool(decay), shift_pixels=shift, shifted_models=shifted)


def shift_inputs(link: PageLink, count: int) -> tuple[int, tuple[int, ...] | None]:
    """(shift_pixels, shifted_models) of TrainSettings: random shifts of up to k pixels (0: off) and the models that
    train on the shifted copies (None: all of them), kept in the page's link. The box is unbounded: the core
    explains a k out of range, and check_form a shift that no model trains on."""
    left, *ticks = st.columns([2] + [1] * count, vertical_alignment="bottom")
    shift = link.number_input("Random shifts of up to k pixels (0: off)", 0, MAX_SHIFT, 0, key="train_shift",
                              where=left, bounded=False,
                              help=f"Augmentation, 0 to {MAX_SHIFT}: every training image is moved by a random "
                                   f"(up, down, left, right) of up to k pixels, new moves each epoch; the models "
                                   f"ticked see the same moves on the same batches. Train an FC net with shifted "
                                   f"copies beside one without: it learns from data what a CNN builds in.")
    chosen = [i for i, where in enumerate(ticks)
              if link.checkbox(f"{LETTERS[i]} on shifted copies", key=f"train_shift_{i}", value=True, where=where,
                               disabled=shift == 0, help=f"Model {LETTERS[i]} trains on the shifted images.")]
    if shift == 0:
        return 0, None
    return int(shift), None if len(chosen) == count else tuple(chosen)


def check_form(settings: TrainSettings, models: list[ModelConfig] | None, train_size: int) -> str | None:
    """Why this form cannot train (shown), or None: the core's limits, an invalid network, a subset larger than
    the dataset. Then the lesson's warnings (a batch larger than the subset, a CNN without activation)."""
    problem = None
    if settings.train_subset is not None and settings.train_subset > train_size:
        problem = f"This dataset has {train_size:,} training images: ask for at most that many."
    elif models:
        try:
            check_run(settings, tuple(models))
        except ValueError as exc:  # LimitError or ShapeError, both written for the visitor
            problem = str(exc)
    if problem:
        st.warning(problem, icon=":material/block:")
    for warning in hints.before_run(settings, models or [], train_size):
        st.warning(warning, icon=":material/lightbulb:")
    return problem


def limits_note(settings: TrainSettings, models: list[ModelConfig] | None, problem: str | None) -> None:
    """The limits profile in force, its caps, and the run's cost."""
    with st.expander(f"Limits of this server ({tutorials.active_profile().name} profile)"):
        tutorials.profile_note()
        st.markdown("\n".join(f"- {line}" for line in describe()))
        if models and problem is None:
            st.caption(f"This run: about {estimate_macs(tuple(models), settings) / 1e9:,.1f} billion "
                       f"multiply-adds forward (training costs about three times that).")
