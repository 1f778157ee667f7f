"""Shareable links: a page's settings round-trip through its URL; bad or hostile query values fall back to defaults
with a warning naming them; 300 seeded random query strings per page never raise."""
from __future__ import annotations

import os
import random
from urllib.parse import parse_qs

import pytest
from streamlit.testing.v1 import AppTest

from cnn_dash.ui import links
from cnn_dash.ui.links import BadValue, parse_bool, parse_choice, parse_float, parse_int, shown
from tests.conftest import APP

STEPS = int(os.environ.get("CNN_DASH_LINK_FUZZ_STEPS", "300"))
SHAPES, ARCH, TRAINING = "pages/shapes.py", "pages/architectures.py", "pages/training.py"


def open_with(page: str, query: dict) -> AppTest:
    """A new session opening `page` from a link with `query`."""
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params = dict(query)
    at.switch_page(page).run()
    assert not at.exception, at.exception[0].value
    return at


def link_query(at: AppTest) -> dict[str, str]:
    """The query of the link in the "Copy link" box."""
    (text,) = [c.value for c in at.code if c.language != "python"]
    return {k: v[-1] for k, v in parse_qs(text.split("?", 1)[1]).items()}


def widget(at: AppTest, key: str):
    return next(w for kind in ("selectbox", "radio", "number_input", "slider", "checkbox", "toggle")
                for w in getattr(at, kind) if w.key == key)


SHAPES_SETTINGS = {"shp_kind": "MaxPool2d", "shp_separate": True, "shp_in_ch": 3, "shp_in_size_height": 20,
                   "shp_in_size_width": 9, "shp_MaxPool2d_kernel_height": 3, "shp_ceil": True}
ARCH_SETTINGS = {"arch_batch": 8, "arch_channels": 3, "arch_height": 32, "arch_width": 32, "arch_matched": True,
                 "arch_hidden": 2, "arch_cnn_preset": "LeNet-5", "arch_log": True}
TRAINING_SETTINGS = {"dataset_title": "Fashion-MNIST (clothing)", "train_count": 3,
                     "train_model_0_preset": "LeNet-5", "train_opt_0_name": "Adam", "train_opt_0_lr_Adam": 0.003,
                     "train_opt_1_lr_SGD": 0.05, "train_opt_1_mom": 0.5, "train_model_2_preset": "MLP 784-128-10",
                     "train_subset": 5000, "train_batch": 128, "train_epochs": 3, "train_seed": 7, "train_evals": 1,
                     "train_permute": True, "train_decay": True, "train_shift": 2, "train_shift_1": False}


@pytest.mark.parametrize("page, settings", [(SHAPES, SHAPES_SETTINGS), (ARCH, ARCH_SETTINGS),
                                            (TRAINING, TRAINING_SETTINGS)], ids=["shapes", "architectures", "training"])
@pytest.mark.parametrize("bind", [True, False], ids=["bind", "st.query_params"])
def test_settings_round_trip_through_the_link(page, settings, bind, monkeypatch):
    monkeypatch.setattr(links, "HAS_BIND", bind and links.HAS_BIND)
    at = open_with(page, {})
    assert link_query(at) == {}  # every setting at its default
    for key, value in settings.items():  # set one by one: some widgets appear only after another is set
        widget(at, key).set_value(value)
        at.run()
        assert not at.exception, at.exception[0].value
    query = link_query(at)
    assert query == {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in settings.items()}
    shared = open_with(page, query)  # a new visitor opens the copied link
    assert {k: widget(shared, k).value for k in settings} == settings
    assert not shared.warning
    assert link_query(shared) == query
    if not bind:  # without the binding the page writes the URL itself
        assert shared.query_params == query


def test_shapes_link_opens_network_mode_with_its_input():
    at = open_with(SHAPES, {"shp_mode": "Network", "shp_preset": "LeNet-5", "shp_net_h": "32", "shp_net_w": "32"})
    assert at.radio(key="shp_mode").value == "Network" and at.selectbox(key="shp_preset").value == "LeNet-5"
    table = [df.value for df in at.table if "receptive field" in df.value.columns][0]
    assert table["output shape"].iloc[0] == "6×32×32"  # the preset pads its first 5×5 conv by 2


@pytest.mark.parametrize("value, words", [
    ("99999", "whole number from 0 to 4,096"), ("-1", "from 0"), ("2.5", "whole number"), ("nan", "whole number"),
    ("1e3", "whole number"), ("💥", "whole number"), ("9" * 500, "longer than 200"), ("", "empty"),
    (["2", "3"], "more than once"),
])
def test_bad_values_fall_back_to_the_default_with_a_warning(value, words):
    at = open_with(SHAPES, {"shp_in_ch": value, "shp_kind": "Conv1d"})
    assert at.number_input(key="shp_in_ch").value == 1 and at.selectbox(key="shp_kind").value == "Conv1d"
    (warning,) = at.warning
    assert "shp_in_ch" in warning.value and words in warning.value and "default" in warning.value
    assert "shp_in_ch" not in at.query_params and at.query_params["shp_kind"] == "Conv1d"
    at.run()  # the next run keeps the default, and says nothing more
    assert at.number_input(key="shp_in_ch").value == 1 and not at.warning


def test_one_warning_names_every_bad_parameter_and_ignores_unknown_ones():
    at = open_with(ARCH, {"arch_cnn_preset": "<script>alert(1)</script>", "arch_batch": "0", "utm_source": "x",
                          "arch_log": "yes", "arch_height": "`![x](http://e)`"})
    (warning,) = at.warning
    for key in ("arch_cnn_preset", "arch_batch", "arch_log", "arch_height"):
        assert key in warning.value
    assert "utm_source" not in warning.value
    assert warning.value.count("`") == 4 * 4  # each value and each default inside its own code span: no link
    assert widget(at, "arch_cnn_preset").value == "ConvNet (CNN notebook)" and widget(at, "arch_batch").value == 64


def test_training_link_trains_what_it_shows():
    """A Training link's models and settings are the ones Train starts, and the form says nothing is wrong."""
    query = {"train_opt_0_name": "Adam", "train_opt_0_lr_Adam": "0.002", "train_model_1_preset": "MLP 784-37-10",
             "train_subset": "500", "train_batch": "32", "train_epochs": "1", "train_seed": "3", "train_evals": "1",
             "train_shift": "3", "train_shift_0": "false"}
    at = open_with(TRAINING, query)
    assert not at.warning
    at.button(key="train_start").click().run()
    run = at.session_state["_training_runs"].runs()[-1]
    s = run.settings
    assert (s.train_subset, s.batch_size, s.epochs, s.seed, s.evals_per_epoch) == (500, 32, 1, 3, 1)
    assert (s.shift_pixels, s.shifted_models) == (3, (1,))  # random shifts of up to 3 pixels for B only
    assert [(m.net.name, m.optimizer.name, m.optimizer.lr) for m in run.models] == [
        ("Small CNN (batch norm)", "adam", 0.002), ("MLP 784-37-10", "sgd", 0.01)]
    run.stop()


@pytest.mark.parametrize("key, value, words", [
    ("train_opt_0_lr_SGD", "0", "above 0 and at most 10"), ("train_opt_0_lr_SGD", "inf", "above 0"),
    ("train_opt_0_lr_SGD", "nan", "above 0"), ("train_opt_0_mom", "1", "at least 0 and below 1"),
    ("train_epochs", "500", "from 1 to 20"), ("train_subset", "99999", "from 100 to 10,000"),
    ("train_batch", "100", "one of: 16, 32"), ("dataset_title", "CIFAR", "one of: MNIST"),
    ("tut_pick", "x", "one of:"), ("train_shift", "5", "from 0 to 4"), ("train_shift", "-1", "from 0 to 4"),
    ("train_shift_1", "maybe", "true or false"),
])
def test_bad_training_values_fall_back_to_the_default(key, value, words):
    at = open_with(TRAINING, {key: value})
    (warning,) = at.warning
    assert f"`{key}=" in warning.value and words in warning.value, warning.value
    assert key not in at.query_params
    assert not at.button(key="train_start").disabled  # the defaults are a valid run


@pytest.mark.parametrize("raw, value", [(["0.5"], 0.5), ([" 1e-3 "], 0.001), (["+.25"], 0.25), (["2"], 2.0)])
def test_parse_float(raw, value):
    assert parse_float(raw, 0, 2, lo_open=True) == value


@pytest.mark.parametrize("raw", [["0"], ["2.01"], ["inf"], ["nan"], ["-0.1"], ["1_0"], ["0x1"], ["١"], [], ["1", "1"]])
def test_parse_float_refuses(raw):
    with pytest.raises(BadValue):
        parse_float(raw, 0, 2, lo_open=True)


@pytest.mark.parametrize("raw, value", [(["3"], 3), (["+4"], 4), ([" 7 "], 7), (["-4"], -4)])
def test_parse_int(raw, value):
    assert parse_int(raw, -4, 10) == value


@pytest.mark.parametrize("raw", [["11"], ["-5"], ["3.0"], ["0x3"], ["inf"], ["1" * 30], [], ["1", "1"], ["٣"]])
def test_parse_int_refuses(raw):
    with pytest.raises(BadValue):
        parse_int(raw, -4, 10)


def test_parse_bool_choice_and_shown():
    assert parse_bool(["TRUE"]) is True and parse_bool(["false"]) is False
    with pytest.raises(BadValue, match="true or false"):
        parse_bool(["1"])
    assert parse_choice(["b"], ["a", "b"]) == 1
    with pytest.raises(BadValue, match="one of: a, b"):
        parse_choice(["B"], ["a", "b"])
    assert "`" not in shown(["`x`" * 30]) and len(shown(["x" * 1000])) < 50


# ---- fuzzed query strings ------------------------------------------------------------------------------------

ODD = ["", " ", "0", "-1", "1", "3", "28", "1e3", "2.5", "nan", "NaN", "inf", "-0", "true", "FALSE", "yes", "💥",
       "9" * 40, "x" * 5000, "%00", "<b>x</b>", "`code`", "[a](http://e)", "Conv2d", "MaxPool2d", "Network",
       "same", "LeNet-5", "Custom (edit layers)", "ﾠ", "١٢", "0.01", "1e-3", ".5", "Adam", "SGD", "128",
       "MLP 784-128-10", "Fashion-MNIST (clothing)", "10.5"]
SHAPES_KEYS = ["shp_mode", "shp_kind", "shp_separate", "shp_in_ch", "shp_in_size", "shp_in_size_height",
               "shp_in_size_width", "shp_out_ch", "shp_Conv2d_kernel", "shp_Conv2d_stride", "shp_pad_kind",
               "shp_Conv2d_pad", "shp_Conv2d_dilation", "shp_groups", "shp_MaxPool2d_kernel", "shp_ceil",
               "shp_Conv3d_kernel_depth", "shp_out_size", "shp_preset", "shp_net_c", "shp_net_h", "shp_net_w"]
ARCH_KEYS = ["arch_batch", "arch_channels", "arch_height", "arch_width", "arch_matched", "arch_hidden",
             "arch_cnn_preset", "arch_fc_preset", "arch_cnn_start", "arch_fc_start", "arch_log"]
TRAINING_KEYS = ["dataset_title", "train_count", "train_model_0_preset", "train_model_1_preset", "train_model_3_preset",
                 "train_model_0_start", "train_opt_0_name", "train_opt_0_lr_SGD", "train_opt_0_lr_Adam",
                 "train_opt_0_mom", "train_opt_1_name", "train_opt_1_lr_Adam", "train_opt_2_mom", "train_subset",
                 "train_batch", "train_epochs", "train_seed", "train_evals", "train_permute", "train_decay", "tut_pick",
                 "train_shift", "train_shift_0", "train_shift_3"]
PAGES = [(SHAPES, SHAPES_KEYS), (ARCH, ARCH_KEYS), (TRAINING, TRAINING_KEYS)]
PAGE_IDS = ["shapes", "architectures", "training"]


def random_query(rng: random.Random, keys: list[str]) -> dict:
    query: dict = {}
    for key in rng.sample(keys, rng.randint(1, 6)) + rng.sample(["embed", "zz", "", "a b", "é"], rng.randint(0, 1)):
        pick = lambda: rng.choice(ODD) if rng.random() < 0.6 else str(rng.choice([0, 1, 2, 5, 64, 10**9, -10**12]))  # noqa: E731
        query[key] = [pick(), pick()] if rng.random() < 0.1 else pick()
    return query


@pytest.mark.parametrize("page, keys", PAGES, ids=PAGE_IDS)
def test_fuzzed_query_strings_never_raise(page, keys):
    """STEPS links per page, opened in turn in one session (fast): no exception, refused values leave the URL.

    A page visited again in one session keeps its widgets' values (Streamlit seeds a widget from the URL only
    when it is new), so that values are applied exactly as written is checked on new sessions below."""
    rng = random.Random(18)
    at = AppTest.from_file(APP, default_timeout=90)
    for step in range(STEPS):
        query = random_query(rng, keys)
        at.query_params = dict(query)
        at.switch_page(page).run()
        assert not at.exception, f"step {step} {query}: {at.exception[0].value}"
        warned = " ".join(w.value for w in at.warning)
        assert all(k not in at.query_params for k in query if f"`{k}=" in warned), (step, query)


@pytest.mark.parametrize("page, keys", PAGES, ids=PAGE_IDS)
def test_fuzzed_links_in_new_sessions_are_applied_or_refused(page, keys):
    rng = random.Random(181)
    for step in range(int(os.environ.get("CNN_DASH_LINK_SESSIONS", "8"))):
        query = random_query(rng, keys)
        at = open_with(page, query)
        check_applied_or_refused(at, query, step)


def check_applied_or_refused(at: AppTest, query: dict, step: int) -> None:
    """Every value of a widget on the page was either applied as written or refused with a warning."""
    warned = " ".join(w.value for w in at.warning)
    for key, raw in query.items():
        w = next((w for kind in ("selectbox", "radio", "number_input", "slider", "checkbox", "toggle")
                  for w in getattr(at, kind) if w.key == key), None)
        if w is None:
            continue  # not on the page with these settings
        if f"`{key}=" in warned:
            assert key not in at.query_params, (step, query)  # a refused value leaves the URL
            continue
        assert isinstance(raw, str), (step, key, raw)  # a repeated key is always refused
        if isinstance(w.value, bool):
            assert str(w.value).lower() == raw.strip().lower(), (step, key, raw, w.value)
        elif isinstance(w.value, float):
            assert w.value == float(raw.strip()), (step, key, raw, w.value)
        elif isinstance(w.value, int):
            assert w.value == int(raw.strip()), (step, key, raw, w.value)
        else:
            assert str(w.value) == raw, (step, key, raw, w.value)


def test_a_typed_value_is_explained_at_the_train_button_never_as_a_bad_link():
    """A value typed in the form reaches the URL through the binding; it came from no link, so no link banner: the
    reason Train is off is shown under the buttons, and the widget keeps what was typed."""
    at = open_with(TRAINING, {})
    at.number_input(key="train_epochs").set_value(0).run()
    for _ in range(2):  # the rerun after the URL holds the typed value too
        assert not at.exception
        warnings = [w.value for w in at.warning]
        assert not any("This link has settings" in w for w in warnings), warnings
        assert any(w.startswith("**Train is off:**") and "poch" in w for w in warnings), warnings
        assert at.button(key="train_start").disabled and widget(at, "train_epochs").value == 0
        at.query_params["train_epochs"] = "0"  # as the browser's URL holds it
        at.run()
    fresh = open_with(TRAINING, {"train_epochs": "0"})  # the same value in a link: the link banner
    assert any("This link has settings" in w.value for w in fresh.warning)
