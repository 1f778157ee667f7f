"""Limits as deployment settings: the profiles, the env vars and secrets that choose them, one var per cap."""
from __future__ import annotations

from dataclasses import fields

import pytest

from cnn_dash import limits as lim
from cnn_dash.limits import (CAP_VARS, PROFILES, Limits, LimitError, active_limits, check_run, current,
                             default_limits, resolve_limits, use_secrets)
from cnn_dash.specs import ModelConfig, TrainSettings
from tests.test_train import PAIR


def test_the_default_is_the_shared_profile_with_todays_caps():
    assert active_limits({}) == ("shared", Limits())
    assert PROFILES["shared"] == Limits()
    assert resolve_limits({}).notes == () and resolve_limits({}).overrides == ()


def test_the_env_var_chooses_a_profile_case_and_spaces_aside():
    assert active_limits({"CNN_DASH_LIMITS": "local"}) == ("local", PROFILES["local"])
    assert active_limits({"CNN_DASH_LIMITS": " Local "})[0] == "local"


def test_the_local_profile_raises_every_cap_that_the_seeds_exceed_and_lowers_none():
    shared, local = PROFILES["shared"], PROFILES["local"]
    assert all(getattr(local, f.name) >= getattr(shared, f.name) for f in fields(Limits) if f.name != "min_train_subset")
    assert local.max_epochs >= 25 and local.max_run_macs > shared.max_run_macs


def test_an_unknown_profile_falls_back_to_shared_with_a_note_naming_the_variable():
    active = resolve_limits({"CNN_DASH_LIMITS": "laptop"})
    assert (active.name, active.limits) == ("shared", Limits())
    assert "CNN_DASH_LIMITS = 'laptop' is not a profile (shared, local)" in active.notes[0]


def test_each_cap_has_its_own_env_var_and_overrides_the_profile():
    assert set(CAP_VARS) == {f.name for f in fields(Limits)}
    assert CAP_VARS["max_epochs"] == "CNN_DASH_MAX_EPOCHS" and CAP_VARS["max_run_macs"] == "CNN_DASH_MAX_RUN_MACS"
    active = resolve_limits({"CNN_DASH_LIMITS": "local", "CNN_DASH_MAX_EPOCHS": "50",
                             "CNN_DASH_MAX_RUN_MACS": "3e12", "CNN_DASH_MAX_LR": "2.5",
                             "CNN_DASH_MAX_SESSION_PARAMS": "30_000_000"})
    assert active.name == "local"
    assert active.limits.max_epochs == 50 and isinstance(active.limits.max_epochs, int)
    assert active.limits.max_run_macs == 3_000_000_000_000 and active.limits.max_lr == 2.5
    assert active.limits.max_session_params == 30_000_000
    assert active.limits.max_batch_size == PROFILES["local"].max_batch_size  # the rest from the profile
    assert "max_epochs = 50 (CNN_DASH_MAX_EPOCHS)" in active.overrides and active.notes == ()
    # A cap alone, without a profile, changes the shared one.
    assert active_limits({"CNN_DASH_MAX_EPOCHS": "30"}) == ("shared", Limits(max_epochs=30))


@pytest.mark.parametrize("raw, problem", [("abc", "is not a whole number"), ("2.5", "is not a whole number"),
                                          ("0", "must be above 0"), ("-3", "must be above 0"),
                                          ("nan", "is not a whole number"), ("inf", "is not a whole number")])
def test_a_bad_cap_is_ignored_with_a_note_naming_the_variable_and_the_value_kept(raw, problem):
    active = resolve_limits({"CNN_DASH_MAX_EPOCHS": raw, "CNN_DASH_MAX_MODELS": "3"})
    assert active.limits == Limits(max_models=3)  # the good one still applies
    assert active.notes == (f"CNN_DASH_MAX_EPOCHS = {raw!r} {problem}; keeping the shared profile's 20.",)


def test_an_empty_training_subset_range_keeps_the_profiles_range():
    active = resolve_limits({"CNN_DASH_MIN_TRAIN_SUBSET": "5000", "CNN_DASH_MAX_TRAIN_SUBSET": "1000"})
    assert (active.limits.min_train_subset, active.limits.max_train_subset) == (100, 60_000)
    assert "CNN_DASH_MIN_TRAIN_SUBSET is above CNN_DASH_MAX_TRAIN_SUBSET" in active.notes[0]


def test_secrets_choose_the_profile_and_caps_and_env_vars_win_over_them():
    assert active_limits({}, {"limits": "local"})[0] == "local"
    assert active_limits({}, {"CNN_DASH_LIMITS": "local"})[0] == "local"
    table = {"limits": {"profile": "local", "max_epochs": 40}}
    assert active_limits({}, table) == ("local", Limits(**{**PROFILES["local"].__dict__, "max_epochs": 40}))
    assert active_limits({"CNN_DASH_LIMITS": "shared"}, table) == ("shared", Limits(max_epochs=40))
    assert active_limits({"CNN_DASH_MAX_EPOCHS": "60"}, table)[1].max_epochs == 60


def test_the_process_default_follows_the_env_and_the_secrets_handed_over(monkeypatch):
    for var in (lim.PROFILE_VAR, *CAP_VARS.values()):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(lim, "_secrets", ())
    assert current().name == "shared" and default_limits() == Limits()
    run = TrainSettings(epochs=25, train_subset=1000, source="bundled")
    with pytest.raises(LimitError, match="Epochs must be between 1 and 20"):
        check_run(run, PAIR)  # check_run's default is the process's caps
    monkeypatch.setenv("CNN_DASH_LIMITS", "local")
    assert current().name == "local" and lim.default_limits() == PROFILES["local"]
    check_run(run, PAIR)
    monkeypatch.delenv("CNN_DASH_LIMITS")
    use_secrets({"limits": {"profile": "local", "max_epochs": 30}})
    assert current().name == "local" and default_limits().max_epochs == 30
    use_secrets(None)
    assert current().name == "shared"


def test_the_registry_checks_against_its_own_or_the_process_caps(monkeypatch):
    from cnn_dash.registry import RunRegistry

    monkeypatch.setenv("CNN_DASH_LIMITS", "local")
    assert RunRegistry().limits == PROFILES["local"]
    assert RunRegistry(limits=Limits(max_models=1)).limits.max_models == 1
    with pytest.raises(LimitError, match="A run trains 1 to 1 models"):
        RunRegistry(limits=Limits(max_models=1)).start(TrainSettings(source="bundled", train_subset=100), PAIR)


def test_an_explicit_limits_argument_still_wins():
    tight = Limits(max_models=1)
    with pytest.raises(LimitError, match="1 to 1 models"):
        check_run(TrainSettings(), (ModelConfig("a", PAIR[0].net), ModelConfig("b", PAIR[1].net)), tight)
