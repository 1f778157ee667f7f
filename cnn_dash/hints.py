"""Why a run contradicts the lesson, in sentences a student can act on: rules over settings, models and results.

`before_run` warns about settings that cannot teach (a batch larger than the subset, a CNN without an
activation); `why_cnn_lost` explains a finished run whose best FC net beat its best CNN. Torch-free.
"""
from __future__ import annotations

from cnn_dash.records import ModelResult, Status
from cnn_dash.specs import ModelConfig, TrainSettings, batches_per_epoch

ACTIVATIONS = ("ReLU", "LeakyReLU", "ELU", "GELU", "SiLU", "Tanh", "Sigmoid", "Softplus", "Mish", "PReLU",
               "ReLU6", "Hardswish", "Hardtanh")
FEW_STEPS = 200  # fewer optimizer steps than this is a short run for any CNN
SLOW_SGD = 0.2  # an SGD step (lr / (1 - momentum)) below this needs thousands of steps for a CNN without batch norm


def steps_per_model(settings: TrainSettings, train_size: int) -> int:
    """Optimizer steps each model takes in the run."""
    images = min(settings.train_subset or train_size, train_size)
    return batches_per_epoch(images, settings.batch_size) * settings.epochs


def _linear_cnn(m: ModelConfig) -> bool:
    return m.net.is_cnn and not any(layer.type in ACTIVATIONS for layer in m.net.layers)


def before_run(settings: TrainSettings, models: list[ModelConfig] | tuple[ModelConfig, ...],
               train_size: int) -> list[str]:
    """Warnings about settings that cannot show the lesson, before anything trains."""
    out = []
    images = min(settings.train_subset or train_size, train_size)
    if settings.batch_size > images:
        out.append(f"The batch size ({settings.batch_size}) is larger than the {images:,} training images, so "
                   f"each epoch is a single step on all of them: choose a batch of at most {images // 4:,}.")
    for m in models:
        if _linear_cnn(m):
            out.append(f"{m.label} has no activation: its convolutions and linear layers collapse into one linear "
                       f"map, no better than a linear classifier. Pick a CNN with ReLU (e.g. 'ConvNet + ReLU').")
    return out


def cnn_lost(models: tuple[ModelConfig, ...], results: dict[str, ModelResult]) -> bool:
    """True when the best FC net's test accuracy is above the best CNN's by TIE_POINTS or more (both evaluated):
    what the Evaluation page's `verdict` calls a win; or when every CNN diverged and an FC net was evaluated."""
    cnns = [results[m.label] for m in models if m.net.is_cnn and m.label in results]
    fc_scored = any(m.label in results and results[m.label].test_acc is not None for m in models if not m.net.is_cnn and not m.net.is_local)
    if cnns and fc_scored and all(r.status == Status.DIVERGED for r in cnns):
        return True  # every CNN diverged: the FC net wins whatever the CNNs' last evaluations said
    lead = cnn_lead(models, {label: r.test_acc for label, r in results.items()})
    return lead is not None and lead <= -TIE_POINTS


def why_cnn_lost(settings: TrainSettings, models: tuple[ModelConfig, ...], results: dict[str, ModelResult],
                 train_size: int) -> str | None:
    """One sentence on why the FC net beat the CNN on this run and what to change; None if the CNN won."""
    if not cnn_lost(models, results):
        return None
    return why_fc_won(settings, models, results, train_size)


def why_fc_won(settings: TrainSettings, models: tuple[ModelConfig, ...], results: dict[str, ModelResult],
               train_size: int) -> str:
    """The rules behind `why_cnn_lost`, for a caller that has decided the FC net won (the Evaluation page, from its
    own evaluation of the weights): the first rule that holds for this run, in one sentence."""
    cnns = [m for m in models if m.net.is_cnn]
    for m in cnns:
        r = results.get(m.label)
        if r is not None and r.status == Status.DIVERGED:
            return (f"{m.label} diverged ({r.note}): its learning rate {m.optimizer.lr:g} is too large; "
                    f"try {m.optimizer.lr / 10:g}.")
    shifted = [i for i in range(len(models)) if settings.shift_pixels and (settings.shifted_models is None
                                                                             or i in settings.shifted_models)]
    if shifted and not any(models[i].net.is_cnn for i in shifted):
        return (f"The FC net trained on copies of the images moved by up to {settings.shift_pixels} pixels, and the "
                f"CNN did not: the data taught the FC net some of what the CNN's architecture builds in. That is "
                f"the shifted-copies experiment's point.")
    if settings.permute_pixels:
        return ("The pixels were shuffled: a convolution's small windows now see pixels that are not neighbours, "
                "so the CNN loses its edge over the FC net. That is the experiment's point; untick the shuffle "
                "to see the CNN ahead again.")
    warnings = before_run(settings, models, train_size)
    if warnings:
        return warnings[0]
    steps = steps_per_model(settings, train_size)
    done = max((r.steps for r in results.values()), default=steps)
    if any(r.status == Status.STOPPED for r in results.values()) and done < steps:
        return (f"The run was stopped after {done:,} of its {steps:,} steps per model: too early for the CNN to pull "
                f"ahead. Let a run finish to compare.")
    # SGD's effective step is lr / (1 - momentum); below SLOW_SGD a CNN without batch norm starts slowly.
    slow = [m for m in cnns if m.optimizer.name == "sgd" and m.optimizer.lr / (1 - m.optimizer.momentum) < SLOW_SGD
            and not any(layer.type.startswith("BatchNorm") for layer in m.net.layers)]
    if slow and steps < 10 * FEW_STEPS:
        m = slow[0]
        return (f"Too few steps for SGD at this rate: {steps:,} steps of lr {m.optimizer.lr:g} leave "
                f"{m.label} (no batch norm) far from trained, while an FC net starts faster. Train more epochs or "
                f"images, use a smaller batch, a larger learning rate, Adam, or the 'Small CNN (batch norm)'.")
    if steps < FEW_STEPS:
        return (f"Only {steps:,} steps per model: too short for the CNN to pull ahead. Train more epochs or "
                f"images, or use a smaller batch.")
    return ("The FC net led on this run; the CNN usually pulls ahead with more training (epochs or images) or "
            "a better-suited learning rate. Start again from the page's defaults to compare.")


POOLS = ("MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "MaxPool1d", "AvgPool1d")
TIE_POINTS = 0.1  # test accuracies within a tenth of a point (0.1%) tie


def pools(m: ModelConfig) -> bool:
    """True when the model has a pooling layer."""
    return any(layer.type in POOLS for layer in m.net.layers)


def best_pair(models: tuple[ModelConfig, ...] | list[ModelConfig],
              accuracies: dict[str, float | None]) -> tuple[str, float, str, float] | None:
    """(best CNN, its accuracy, best FC net, its accuracy) among the models with an accuracy; None without both.
    A locally connected net is neither."""
    def best(is_cnn: bool) -> tuple[str, float] | None:
        scored = [(m.label, accuracies[m.label]) for m in models
                  if m.net.is_cnn == is_cnn and not m.net.is_local and accuracies.get(m.label) is not None]
        return max(scored, key=lambda item: item[1]) if scored else None

    cnn, fc = best(True), best(False)
    return (*cnn, *fc) if cnn and fc else None  # type: ignore[return-value]


def cnn_lead(models: tuple[ModelConfig, ...] | list[ModelConfig], accuracies: dict[str, float | None]) -> float | None:
    """The best CNN's test accuracy minus the best FC net's, in points (negative: the FC net leads)."""
    pair = best_pair(models, accuracies)
    return None if pair is None else 100 * (pair[1] - pair[3])


def _lead_words(points: float) -> str:
    if abs(points) < TIE_POINTS:
        return "level (within 0.1 points)"
    return f"{'the CNN' if points > 0 else 'the FC net'} ahead by {abs(points):.1f} points"


def shuffle_verdict(real: float, shuffled: float) -> str:
    """How the CNN's lead (points, `cnn_lead`) changed from real images to shuffled pixels, in one sentence that
    holds for these two numbers: "the CNN's lead shrank from 6.0 to 2.0 points"."""
    r, s = round(real, 1), round(shuffled, 1)
    if r >= TIE_POINTS and s >= TIE_POINTS:
        change = "shrank" if s < r else "grew" if s > r else "stayed"
        amount = f"at {r:.1f} points" if s == r else f"from {r:.1f} to {s:.1f} points"
        return f"the CNN's lead {change} {amount}."
    if r >= TIE_POINTS and abs(s) < TIE_POINTS:
        return f"the CNN's lead of {r:.1f} points is gone: the two are level (within 0.1 points)."
    if r >= TIE_POINTS:
        return f"the CNN's lead of {r:.1f} points turned into the FC net's lead of {-s:.1f} points."
    return (f"on real images the CNN did not lead ({_lead_words(r)}), so this pair does not show the CNN's edge; "
            f"shuffled: {_lead_words(s)}.")


def verdict(models: tuple[ModelConfig, ...] | list[ModelConfig], accuracies: dict[str, float]) -> tuple[str, str]:
    """(title, sentence) naming who wins on this run by test accuracy: the best CNN against the best FC net, or the
    best model when the run has only one kind. Within 0.1 points is a tie."""
    pair = best_pair(models, accuracies)
    if pair is None:
        top = max(accuracies, key=accuracies.__getitem__)
        if len(accuracies) == 1:
            return "one model's mistakes", f"On this run {top} scores {accuracies[top]:.1%}."
        return "the best model on this run", f"On this run {top} scores best: {accuracies[top]:.1%}."
    cnn, ca, fc, fa = pair
    if abs(100 * (ca - fa)) < TIE_POINTS:
        return ("on this run the CNN and the FC net tie",
                f"On this run the CNN and the FC net tie: {cnn} {ca:.2%}, {fc} {fa:.2%}.")
    if ca > fa:
        return ("on this run the CNN wins",
                f"On this run the CNN wins: {cnn} {ca:.2%} vs {fc} {fa:.2%} test accuracy.")
    return ("on this run the FC net wins",
            f"On this run the FC net wins: {fc} {fa:.2%} vs {cnn} {ca:.2%} test accuracy.")


def shift_mechanism(models: tuple[ModelConfig, ...] | list[ModelConfig]) -> str:
    """How the run's kinds of model see a moved image (architecture facts, no result): pooling named only for the
    CNNs that have it."""
    cnns = [m for m in models if m.net.is_cnn]
    text = ("Each test image is moved by 0, 1, 2… pixels up, down, left and right (the edge fills with black) and "
            "every model classifies it again. An FC net has one weight per pixel position, so a moved digit meets "
            "other weights")
    if cnns:
        text += "; a CNN slides the same kernels over every position"
        pooled = [m.label for m in cnns if pools(m)]
        if pooled:
            text += f", and pooling ({', '.join(pooled)}) keeps a feature's strongest or mean answer over a window"
    return text + "."


def shift_reading(models: tuple[ModelConfig, ...] | list[ModelConfig], unshifted: dict[str, float],
                  shifted: dict[str, float], pixels: int) -> str:
    """What this run's shift curves show at `pixels`: every model's accuracy and its drop, and which kind dropped
    less (best CNN against best FC net by unshifted accuracy)."""
    kinds = {m.label: "CNN" if m.net.is_cnn else "FC net" for m in models}
    ranked = sorted(shifted, key=lambda label: -shifted[label])
    parts = [f"{label} ({kinds.get(label, 'model')}) {shifted[label]:.1%}, "
             f"{100 * (shifted[label] - unshifted[label]):+.1f} points" for label in ranked]
    text = f"Moved by {pixels} px: " + " · ".join(parts) + "."
    pair = best_pair(models, unshifted)
    if pair is None:
        return text
    cnn, fc = pair[0], pair[2]
    cnn_drop, fc_drop = 100 * (unshifted[cnn] - shifted[cnn]), 100 * (unshifted[fc] - shifted[fc])
    if abs(cnn_drop - fc_drop) < TIE_POINTS:
        return text + f" {cnn} and {fc} lost as much as each other."
    better, worse = (cnn, fc) if cnn_drop < fc_drop else (fc, cnn)
    return text + (f" {better} lost {min(cnn_drop, fc_drop):.1f} points, {worse} {max(cnn_drop, fc_drop):.1f}: "
                   f"here the {kinds[better]} copes better with a moved image.")


HOLDS = 0.5  # a model still reads at least half the moved or shrunk digits: it holds
FAILS_GAP = 10.0  # points between the two kinds for one to be said to hold where the other fails


def placement_verdicts(models: tuple[ModelConfig, ...] | list[ModelConfig],
                       accuracies: dict[str, dict[str, float]]) -> dict[str, str] | None:
    """Placement -> "holds" (the best CNN reads at least HOLDS of the digits and FAILS_GAP points more than the best
    FC net), "both fail" (both read fewer than HOLDS) or "" (neither), for every placement but the first (centred);
    None without a CNN and an FC net. `accuracies` as placement.placement_accuracy returns them."""
    pair = best_pair(models, {label: next(iter(accs.values())) for label, accs in accuracies.items()})
    if pair is None:
        return None
    cnn, fc = accuracies[pair[0]], accuracies[pair[2]]

    def verdict(place: str) -> str:
        if cnn[place] >= HOLDS and 100 * (cnn[place] - fc[place]) >= FAILS_GAP:
            return "holds"
        return "both fail" if cnn[place] < HOLDS and fc[place] < HOLDS else ""

    return {place: verdict(place) for place in list(cnn)[1:]}


KEEP = "tick *Keep my drawing where and how big I drew it*"


def placement_reading(models: tuple[ModelConfig, ...] | list[ModelConfig],
                      accuracies: dict[str, dict[str, float]]) -> str:
    """What this run's models score on test digits moved off-centre or shrunk (placement.placement_accuracy), and
    what those numbers support, placement by placement: the CNN holds where the FC net fails, both fail, or
    neither."""
    verdicts = placement_verdicts(models, accuracies)
    if verdicts is None:
        return ""
    pair = best_pair(models, {label: next(iter(accs.values())) for label, accs in accuracies.items()})
    cnn, fc = pair[0], pair[2]
    parts = [f"{place}, {accuracies[cnn][place]:.0%} and {accuracies[fc][place]:.0%}" for place in accuracies[cnn]]
    text = f"On this run's test digits, {cnn} (CNN) and {fc} (FC net) score: " + "; ".join(parts) + "."
    held = [place for place, v in verdicts.items() if v == "holds"]
    failed = [place for place, v in verdicts.items() if v == "both fail"]
    if len(held) == len(verdicts):
        return text + (f" The CNN holds where the FC net fails: {KEEP} and draw small or off-centre to see it in your "
                       "own hand.")
    if len(failed) == len(verdicts):
        return text + (" Both fail on a digit that is off-centre or small: centring and scaling it, as MNIST was "
                       f"made, is what lets them read a drawing. Tick{KEEP[4:]} to see it in your own hand.")
    if not held:
        return text + f" Neither kind holds throughout: {KEEP} and compare them on your own drawing."
    text += (f" The CNN holds where the FC net fails ({' · '.join(held)}): {KEEP} and draw so to see it in your own "
             "hand.")
    if failed:
        text += (f" Both fail ({' · '.join(failed)}): MNIST's digits are all centred and about 20 pixels tall, and "
                 "neither net learned to read one placed otherwise.")
    return text