"""Shape calculator: PyTorch's output-size arithmetic for one layer (explained and drawn) and for a whole network."""
import math
from dataclasses import replace

import pandas as pd
import streamlit as st

from cnn_dash.build import layer_code, to_code
from cnn_dash.plots.window import drawable, pooling_figure, window_figure
from cnn_dash.presets import PRESETS
from cnn_dash.shapes import DIM_NAMES, MAX_CHANNELS, MAX_LAYERS, MAX_SPATIAL, SPATIAL_DIMS, ShapeError, trace
from cnn_dash.specs import LayerSpec
from cnn_dash.ui.controls import number_slider
from cnn_dash.ui.dataset import selected_dataset
from cnn_dash.ui.links import PageLink
from cnn_dash.ui.routing import through_router
from cnn_dash.ui.stack_editor import stack_editor
from cnn_dash.ui.tables import table
from cnn_dash.windows import explain, pool2d, rounding_text

through_router()

SINGLE_TYPES = ("Conv2d", "MaxPool2d", "AvgPool2d", "ConvTranspose2d", "AdaptiveAvgPool2d", "Conv1d", "Conv3d",
                "LocallyConnected2d")
MACS_HELP = ("Multiply-adds per image, counted as torchinfo counts them: one for every weight × input product, "
             "plus one for each bias addition (every output value adds its bias once; bias=False layers add none).")
BIG = 4 * MAX_SPATIAL  # boxes accept values past every sensible size, so the calculator can say why they fail

st.title("Shape calculator")
st.write("PyTorch's exact output-size arithmetic for one layer (the window drawn) or a whole network, up to the "
         "size the first Linear layer needs; any setting PyTorch would refuse is explained.")
link = PageLink()  # the settings below live in the URL: a copied link opens this page as it is now
# The choices in one row, so that a layer's settings and its answer start high on a 1280×720 screen.
mode_col, first_col, toggle_col = st.columns(3, vertical_alignment="bottom")
mode = link.radio("Mode", ["Single layer", "Network"], horizontal=True, key="shp_mode", where=mode_col)


def per_dim(label: str, key: str, default: int, lo: int, hi: int, n: int, separate: bool) -> int | tuple[int, ...]:
    """One number box, or one per spatial dimension (non-square); an int or a tuple as torch takes it."""
    if not separate or n == 1:
        return link.number_input(label, lo, hi, default, key=key)
    columns = st.columns(n)
    return tuple(link.number_input(f"{label} ({name})", lo, hi, default, key=f"{key}_{name}", where=col)
                 for col, name in zip(columns, DIM_NAMES[n]))


def layer_controls(kind: str, n: int, separate: bool) -> dict:
    """The constructor arguments of a `kind` layer, typed by the user (out-of-range values included)."""
    args: dict = {}
    if kind == "AdaptiveAvgPool2d":
        args["output_size"] = per_dim("output_size", "shp_out_size", 7, -4, BIG, n, separate)
        return args
    weights = "Conv" in kind or kind == "LocallyConnected2d"  # layers with channels and a kernel of weights
    if weights:
        args["out_channels"] = link.number_input("out_channels", -4, 4 * MAX_CHANNELS, 16, key="shp_out_ch")
    args["kernel_size"] = per_dim("kernel_size", f"shp_{kind}_kernel", 3 if weights else 2, -4, BIG, n, separate)
    args["stride"] = per_dim("stride", f"shp_{kind}_stride", 2, -4, BIG, n, separate)
    choice = "number"
    if kind in ("Conv1d", "Conv2d", "Conv3d"):
        choice = link.radio("padding", ["number", "same", "valid"], horizontal=True, key="shp_pad_kind")
    pad = 1 if weights else 0
    args["padding"] = choice if choice != "number" else per_dim("padding", f"shp_{kind}_pad", pad, -4, BIG, n, separate)
    if kind != "AvgPool2d":
        args["dilation"] = per_dim("dilation", f"shp_{kind}_dilation", 1, -4, BIG, n, separate)
    if kind == "ConvTranspose2d":
        args["output_padding"] = per_dim("output_padding", "shp_out_pad", 0, -4, BIG, n, separate)
    if "Conv" in kind:
        args["groups"] = link.number_input("groups", -4, 4 * MAX_CHANNELS, 1, key="shp_groups")
    if "Pool" in kind:
        args["ceil_mode"] = link.checkbox("ceil_mode (round up)", key="shp_ceil")
    return args


def single_layer() -> None:
    kind = link.selectbox("Layer", SINGLE_TYPES, key="shp_kind", where=first_col)
    n = SPATIAL_DIMS[kind]
    separate = n > 1 and link.toggle("Non-square", key="shp_separate", help="A value per dimension (height, width).",
                                     where=toggle_col)
    # The answer sits under the input, beside the layer's settings: at 1280×720 a setting and its result are on
    # screen together (the explanations and the drawing follow below, full width).
    left, right = st.columns(2)
    with left:
        st.markdown("**Input** (one image, batch left out)")
        channels_col, size_col = st.columns(2) if not separate else (st.container(), st.container())
        channels = link.number_input("channels", 0, 4 * MAX_CHANNELS, 1, key="shp_in_ch", where=channels_col)
        with size_col:
            size = per_dim("input size", "shp_in_size", 28 if n < 3 else 8, 0, BIG, n, separate)
        in_shape = (channels, *(size if isinstance(size, tuple) else (size,) * n))
    with right:
        st.markdown(f"**nn.{kind}**")
        layer = LayerSpec.of(kind, **layer_controls(kind, n, separate))
    with left:
        try:
            expl = explain(layer, in_shape)
        except ShapeError as e:
            st.error(f"PyTorch would refuse this layer: {e}.")
            return
        st.metric("Output shape", "×".join(map(str, expl.out_shape)))
        st.latex(expl.dims[0].latex()[0])
        st.code(f"{layer_code(expl.layer)}  # {in_shape} -> {expl.out_shape}", language="python", wrap_lines=True)
        c2, c3 = st.columns(2)
        c2.metric("Parameters", f"{expl.params:,}")
        c3.metric("Multiply-adds per image", f"{expl.macs:,}", help=MACS_HELP)
    explained: dict[tuple[str, str], list[str]] = {}  # a square layer explains height and width once
    for dim in expl.dims:
        explained.setdefault((dim.latex()[1], rounding_text(dim)), []).append(dim.name)
    for (formula, text), names in explained.items():
        st.markdown(f"**{' and '.join(names)}**")
        st.latex(formula)
        st.write(text)
    draw_window(expl)
    if kind in ("MaxPool2d", "AvgPool2d"):
        compare_pooling(expl.layer)


def draw_window(expl) -> None:
    st.subheader("The window, drawn")
    if not drawable(expl):
        st.info("This input is too large to draw cell by cell; the numbers above still hold.")
        return
    dims = expl.dims[-2:]
    index = tuple(number_slider(f"Output {d.name}", 0, d.out - 1, key=f"shp_cell_{d.name}") for d in dims)
    if len(expl.dims) == 3:
        st.caption("Conv3d: the drawing shows the height × width plane; depth follows the same rule.")
    st.plotly_chart(window_figure(expl, index), width="stretch", key="shp_window_fig")
    st.caption("Dark orange: input cells the window reads for the chosen output cell; light orange: padding it "
               "reads; grey: padding. Crossed cells are read by no window at all (the rounding down, or a stride "
               "or dilation that skips them). Move the output cell by one and the window moves by the stride; "
               "dilation leaves gaps between its taps.")


def compare_pooling(layer: LayerSpec) -> None:
    st.subheader("Max vs average pooling on a real image")
    dataset = selected_dataset()
    if dataset is None:
        return
    index = number_slider("Test image", 0, len(dataset.test_images) - 1, key="shp_image")
    image = dataset.test_images[index].numpy()  # uint8 (28, 28)
    kw = {k: v for k, v in layer.kwargs().items() if k != "dilation"}
    try:
        pooled = {"max pool": pool2d(image, LayerSpec.of("MaxPool2d", **kw, dilation=layer.get("dilation", 1))),
                  "average pool": pool2d(image, LayerSpec.of("AvgPool2d", **kw))}
    except ShapeError as e:
        st.warning(f"These settings do not fit a {image.shape[0]}×{image.shape[1]} image: {e}.")
        return
    label = dataset.classes[int(dataset.test_labels[index])]
    st.plotly_chart(pooling_figure(image.astype(float), pooled, f"{label} — same kernel, stride and padding"),
                    width="stretch", key="shp_pool_fig")
    st.caption("Max pooling keeps the strongest pixel of each window, so strokes stay sharp; average pooling "
               "blends each window, so the image gets smoother and fainter.")


def network() -> None:
    names = list(PRESETS)
    choice = link.selectbox("Start from", names, key="shp_preset", where=first_col)
    c1, c2, c3 = st.columns(3)
    input_shape = (link.number_input("Input channels", 1, MAX_CHANNELS, 1, key="shp_net_c", where=c1),
                   link.number_input("Input height", 1, MAX_SPATIAL, 28, key="shp_net_h", where=c2),
                   link.number_input("Input width", 1, MAX_SPATIAL, 28, key="shp_net_w", where=c3))
    answer = st.container()  # the layer count's result goes above the editor: on screen with the table's top rows
    st.caption(f"Edit any cell, add rows at the bottom, delete rows with the checkbox on the left (up to "
               f"{MAX_LAYERS} layers). in_channels and in_features are inferred; any other argument (dilation=2, "
               "ceil_mode=True, or in_channels to check it) goes under 'more'.")
    net, error = stack_editor(f"shp_stack_{names.index(choice)}", PRESETS[choice])
    if error is not None:
        st.error(f"The table cannot be read: {error}.")
        return
    net = replace(net, input_shape=input_shape)
    try:
        rows = trace(net)
    except ShapeError as e:
        st.error(f"PyTorch would refuse this network: {e}.")
        return
    with answer:
        total = sum(r.params for r in rows)
        st.write(f"**{total:,} parameters**, {sum(r.macs for r in rows):,} multiply-adds per image (bias additions "
                 f"counted, as torchinfo counts them); output {rows[-1].out_shape}.")
        explain_first_linear(rows)
    table(trace_frame(rows, input_shape), helps={"multiply-adds": MACS_HELP}, hide_index=True)
    st.subheader("As PyTorch code")
    st.code(to_code(net), language="python", wrap_lines=True)


def trace_frame(rows, input_shape) -> pd.DataFrame:
    """One row per layer; the long layer code last, so that the numbers are in view without scrolling."""
    spatial = "×".join(map(str, input_shape[1:]))
    return pd.DataFrame([{
        "#": r.index + 1,
        "output shape": "×".join(map(str, r.out_shape)),
        "parameters": r.params,
        "multiply-adds": r.macs,
        "receptive field": "×".join(map(str, r.receptive_field)) if r.jump else f"all {spatial}",
        "effective stride": "×".join(map(str, r.jump)) if r.jump else "—",
        "layer": layer_code(r.layer).removeprefix("nn."),
    } for r in rows])


def explain_first_linear(rows) -> None:
    first = next((r for r in rows if r.layer.type == "Linear"), None)
    if first is None:
        return
    before = rows[first.index - 1] if first.index > 0 else None
    source = first.in_shape
    if before is not None and before.layer.type == "Flatten" and len(before.in_shape) > 1:
        source = before.in_shape
    product = " · ".join(map(str, source))
    st.info(f"The first Linear layer (layer {first.index + 1}) needs **in_features = "
            f"{product + ' = ' if len(source) > 1 else ''}{math.prod(source) if len(source) > 1 else source[-1]:,}**"
            f", computed from the shape before it — never typed by hand.")


if mode == "Network":
    network()
else:
    single_layer()
link.finish()
