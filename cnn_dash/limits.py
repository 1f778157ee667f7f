"""Training limits a visitor cannot exceed, so one run cannot sink a shared 2-core, ~2.7 GB server.

The limits are a deployment setting: a named profile (`shared`, the default, or `local` for one user on their
own machine) chosen by the env var CNN_DASH_LIMITS or Streamlit secrets, and each cap settable on its own
(CNN_DASH_MAX_EPOCHS, ...: one env var per `Limits` field). See `resolve_limits`.
"""
from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass, fields, replace
from typing import Any, Mapping

from cnn_dash.shapes import MAX_PARAMS, net_cost
from cnn_dash.specs import SCALINGS, ModelConfig, TrainSettings

FULL_TRAIN_SET = 60_000  # both datasets; a run without a subset is counted at this size


class LimitError(ValueError):
    """A training request over a limit; the message names the value, the limit and what to change."""


@dataclass(frozen=True)
class Limits:
    """The caps checked before a run is queued (see `check_run`)."""

    max_models: int = 4
    max_epochs: int = 20
    max_batch_size: int = 1024
    min_train_subset: int = 100
    max_train_subset: int = FULL_TRAIN_SET
    max_evals_per_epoch: int = 10
    max_seed: int = 2**31 - 1
    max_lr: float = 10.0  # large enough to watch a run diverge on purpose
    max_params: int = MAX_PARAMS  # per model, the same cap as the shape calculator
    # Forward multiply-adds over one epoch, per model: about 3 minutes of one core for the whole epoch
    # (training costs ~3x the forward pass). The 2020 tutorial's CNN on all 60,000 images fits.
    max_epoch_macs: int = 1_000_000_000_000
    max_run_macs: int = 2_000_000_000_000  # all models, all epochs
    max_session_params: int = 20_000_000  # trained weights an owner (a browser) keeps over all its runs (80 MB)
    max_runs_kept: int = 16  # runs an owner keeps: room for a data-efficiency sweep (6 runs) beside 10 others
    max_store_mb: int = 500  # the run store's size; the oldest runs (of any owner) are removed first
    max_run_age_days: int = 30  # a run older than this is removed from the store


PROFILES: dict[str, Limits] = {
    # Many visitors share one server: today's caps.
    "shared": Limits(),
    # One user on their own machine: every seed tutorial fits (seed 003 is 2 models × 25 epochs × 291 billion
    # multiply-adds on 60,000 images = 14,500 billion; seed 001 is 10 × 831 billion).
    "local": Limits(max_epochs=100, max_batch_size=4096, max_evals_per_epoch=20,
                    max_epoch_macs=10_000_000_000_000, max_run_macs=100_000_000_000_000,
                    max_session_params=100_000_000, max_store_mb=2_000, max_run_age_days=365),
}
DEFAULT_PROFILE = "shared"  # the safe choice where nothing is configured
PROFILE_VAR = "CNN_DASH_LIMITS"
SECRETS_KEY = "limits"  # in .streamlit/secrets.toml: limits = "local", or a [limits] table (profile = ..., caps)


MAX_SHIFT = 4  # pixels a training image may be moved each way by augmentation; a 28×28 digit stays in view


def cap_var(name: str) -> str:
    """The env var that sets one cap, e.g. max_epochs -> CNN_DASH_MAX_EPOCHS."""
    return f"CNN_DASH_{name.upper()}"


CAP_VARS: dict[str, str] = {f.name: cap_var(f.name) for f in fields(Limits)}


@dataclass(frozen=True)
class ActiveLimits:
    """The limits in force: the profile's name, its caps after overrides, the overrides and any problems."""

    name: str
    limits: Limits
    overrides: tuple[str, ...] = ()  # "max_epochs = 50 (CNN_DASH_MAX_EPOCHS)"
    notes: tuple[str, ...] = ()  # settings that were ignored, and why (shown on the Training page)


def _parse_cap(name: str, raw: Any, where: str) -> int | float:
    """A cap's value from a setting (text, int or float); ValueError naming the setting when it is not valid."""
    text = str(raw).strip().replace("_", "").replace(",", "")  # "2_000_000", "2,000,000" and "2e12" are fine
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    whole = name != "max_lr"
    if not math.isfinite(number) or (whole and not number.is_integer()):
        raise ValueError(f"{where} = {raw!r} is not {'a whole number' if whole else 'a number'}")
    if number <= 0:
        raise ValueError(f"{where} = {raw!r} must be above 0")
    return int(number) if whole else number


def _secret_settings(secrets: Mapping | None) -> dict[str, Any]:
    """The limit settings found in Streamlit secrets, keyed like the env vars."""
    if not secrets:
        return {}
    out = {k: secrets[k] for k in (PROFILE_VAR, *CAP_VARS.values()) if k in secrets}
    table = secrets.get(SECRETS_KEY) if hasattr(secrets, "get") else None
    if isinstance(table, Mapping):
        if "profile" in table:
            out.setdefault(PROFILE_VAR, table["profile"])
        out.update({CAP_VARS[k]: v for k, v in table.items() if k in CAP_VARS and CAP_VARS[k] not in out})
    elif table is not None:
        out.setdefault(PROFILE_VAR, table)
    return out


def resolve_limits(env: Mapping[str, str] | None = None, secrets: Mapping | None = None) -> ActiveLimits:
    """The limits in force: env vars first, then secrets, then the `shared` profile. Never raises: a setting
    that is not valid is ignored (the profile's value stays, the safer choice) and named in `notes`."""
    env = os.environ if env is None else env
    settings = {**_secret_settings(secrets), **{k: v for k, v in env.items() if k.startswith("CNN_DASH_")}}
    notes: list[str] = []
    name = str(settings.get(PROFILE_VAR, DEFAULT_PROFILE)).strip().lower() or DEFAULT_PROFILE
    if name not in PROFILES:
        notes.append(f"{PROFILE_VAR} = {settings[PROFILE_VAR]!r} is not a profile ({', '.join(PROFILES)}); "
                     f"using '{DEFAULT_PROFILE}'.")
        name = DEFAULT_PROFILE
    limits, overrides = PROFILES[name], []
    for cap, var in CAP_VARS.items():
        if var not in settings or str(settings[var]).strip() == "":
            continue
        try:
            value = _parse_cap(cap, settings[var], var)
        except ValueError as exc:
            notes.append(f"{exc}; keeping the {name} profile's {getattr(limits, cap):,}.")
            continue
        limits = replace(limits, **{cap: value})
        overrides.append(f"{cap} = {value:,} ({var})")
    if limits.min_train_subset > limits.max_train_subset:
        notes.append(f"{cap_var('min_train_subset')} is above {cap_var('max_train_subset')}; "
                     f"keeping the {name} profile's training-subset range.")
        base = PROFILES[name]
        limits = replace(limits, min_train_subset=base.min_train_subset, max_train_subset=base.max_train_subset)
    return ActiveLimits(name, limits, tuple(overrides), tuple(notes))


def active_limits(env: Mapping[str, str] | None = None, secrets: Mapping | None = None) -> tuple[str, Limits]:
    """(profile name, limits) in force for these env vars and secrets (see `resolve_limits`)."""
    active = resolve_limits(env, secrets)
    return active.name, active.limits


_secrets: tuple[tuple[str, str], ...] = ()  # the limit settings of st.secrets, handed over by the ui layer


def use_secrets(secrets: Mapping | None) -> None:
    """Take the limit settings from Streamlit secrets for the whole process (the ui layer passes st.secrets;
    the core never imports streamlit). Root-level secrets are also env vars, which win over this."""
    global _secrets
    try:
        found = _secret_settings(secrets)
    except Exception:  # noqa: BLE001 - a missing or unreadable secrets file means no secrets
        found = {}
    _secrets = tuple(sorted((k, str(v)) for k, v in found.items()))


@functools.lru_cache(maxsize=8)
def _cached(env_items: tuple[tuple[str, str], ...], secret_items: tuple[tuple[str, str], ...]) -> ActiveLimits:
    return resolve_limits(dict(env_items), dict(secret_items))


def current() -> ActiveLimits:
    """The limits in force in this process now (cached on the CNN_DASH_* env vars and the secrets given)."""
    env = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("CNN_DASH_")))
    return _cached(env, _secrets)


def default_limits() -> Limits:
    """The caps in force in this process: what `check_run` and the run registry use unless given others."""
    return current().limits


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise LimitError(message)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_settings(settings: TrainSettings, limits: Limits | None = None) -> None:
    """LimitError unless epochs, batch size, subset, seed and evaluations are within the limits."""
    s, lim = settings, limits or default_limits()
    _check(_whole(s.epochs) and 1 <= s.epochs <= lim.max_epochs,
           f"Epochs must be between 1 and {lim.max_epochs} (got {s.epochs}).")
    _check(_whole(s.batch_size) and 1 <= s.batch_size <= lim.max_batch_size,
           f"Batch size must be between 1 and {lim.max_batch_size} (got {s.batch_size}).")
    _check(s.train_subset is None or (_whole(s.train_subset)
                                      and lim.min_train_subset <= s.train_subset <= lim.max_train_subset),
           f"The training subset must be between {lim.min_train_subset:,} and {lim.max_train_subset:,} images "
           f"(got {s.train_subset}).")
    _check(_whole(s.seed) and 0 <= s.seed <= lim.max_seed, f"The seed must be between 0 and {lim.max_seed:,}.")
    _check(_whole(s.evals_per_epoch) and 1 <= s.evals_per_epoch <= lim.max_evals_per_epoch,
           f"Test evaluations per epoch must be between 1 and {lim.max_evals_per_epoch}.")
    _check(_whole(s.shift_pixels) and 0 <= s.shift_pixels <= MAX_SHIFT,
           f"Random shifts must be between 0 and {MAX_SHIFT} pixels (got {s.shift_pixels}).")
    _check(s.scaling in SCALINGS, f"The input scaling must be one of {', '.join(SCALINGS)} (got {s.scaling!r}).")


def check_models(models: tuple[ModelConfig, ...], settings: TrainSettings, limits: Limits | None = None) -> None:
    """LimitError (or ShapeError for an invalid network) unless every model and their total cost fit."""
    lim = limits or default_limits()
    _check(1 <= len(models) <= lim.max_models, f"A run trains 1 to {lim.max_models} models (got {len(models)}).")
    labels = [m.label for m in models]
    _check(len(set(labels)) == len(labels) and all(label.strip() for label in labels),
           "Every model of a run needs its own non-empty name.")
    shifted = settings.shifted_models or ()
    _check(all(_whole(i) and 0 <= i < len(models) for i in shifted),
           f"The models to train on shifted copies are given by position, 0 to {len(models) - 1} (got {shifted}).")
    _check(not settings.shift_pixels or settings.shifted_models != (),
           f"Random shifts of up to {settings.shift_pixels} pixels are on, but no model trains on the shifted "
           f"copies: tick at least one model, or set the shifts to 0.")
    images = settings.train_subset or FULL_TRAIN_SET
    total = 0
    for m in models:
        opt = m.optimizer
        _check(opt.name in ("sgd", "adam"), f"{m.label}: the optimizer must be SGD or Adam (got {opt.name!r}).")
        _check(isinstance(opt.lr, (int, float)) and 0 < opt.lr <= lim.max_lr,
               f"{m.label}: the learning rate must be above 0 and at most {lim.max_lr:g} (got {opt.lr}).")
        _check(isinstance(opt.momentum, (int, float)) and 0 <= opt.momentum < 1,
               f"{m.label}: momentum must be at least 0 and below 1 (got {opt.momentum}).")
        params, macs = net_cost(m.net)
        _check(params <= lim.max_params, f"{m.label} has {params:,} parameters; the limit is {lim.max_params:,}.")
        epoch = macs * images
        _check(epoch <= lim.max_epoch_macs,
               f"{m.label} needs {epoch / 1e9:,.0f} billion multiply-adds per epoch on {images:,} images; the "
               f"limit is {lim.max_epoch_macs / 1e9:,.0f} billion. Use fewer images or a smaller network.")
        total += epoch * settings.epochs
    _check(total <= lim.max_run_macs,
           f"This run needs {total / 1e9:,.0f} billion multiply-adds in all (models × epochs × images); the "
           f"limit is {lim.max_run_macs / 1e9:,.0f} billion. Use fewer epochs or images.")


def check_run(settings: TrainSettings, models: tuple[ModelConfig, ...], limits: Limits | None = None) -> None:
    """Every training limit at once: the core calls it before a run is queued and before it trains.
    Without `limits`, the caps in force in this process (`default_limits`)."""
    limits = limits or default_limits()
    check_settings(settings, limits)
    check_models(tuple(models), settings, limits)


def describe(limits: Limits | None = None) -> list[str]:
    """The limits in words, for the page."""
    lim = limits or default_limits()
    return [
        f"up to {lim.max_models} models per run and one run (or one data-efficiency sweep) training or "
        f"queued per browser",
        f"1–{lim.max_epochs} epochs, batch size 1–{lim.max_batch_size:,}, "
        f"{lim.min_train_subset:,}–{lim.max_train_subset:,} training images",
        f"at most {lim.max_params:,} parameters per model and {lim.max_session_params:,} kept over a "
        f"browser's runs",
        f"at most {lim.max_epoch_macs / 1e9:,.0f} billion multiply-adds per model and epoch, "
        f"{lim.max_run_macs / 1e9:,.0f} billion for the whole run",
        f"{lim.max_runs_kept} runs kept per browser, for {lim.max_run_age_days} days; the server keeps "
        f"{lim.max_store_mb:,} MB of runs in all and removes the oldest first",
    ]


def estimate_macs(models: tuple[ModelConfig, ...], settings: TrainSettings) -> int:
    """Forward multiply-adds of the whole run (all models, epochs and images), for the page to show."""
    images = settings.train_subset or FULL_TRAIN_SET
    return sum(net_cost(m.net)[1] for m in models) * images * settings.epochs
