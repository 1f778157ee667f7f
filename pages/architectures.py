"""Architectures: a CNN and a fully connected net side by side, layer by layer, as torchinfo sees them."""
import streamlit as st

from cnn_dash.build import to_code
from cnn_dash.plots.params import params_per_layer_figure
from cnn_dash.presets import matched_fc
from cnn_dash.specs import NetSpec
from cnn_dash.summary import Summary, compare, cost_frame, macs_note, summarize, summary_frame, totals_frame
from cnn_dash.ui.links import PageLink
from cnn_dash.ui.model_picker import model_picker
from cnn_dash.ui.routing import through_router
from cnn_dash.ui.tables import table

through_router()

st.title("Architectures")
st.write(
    "Compare two networks layer by layer: output shapes, where the parameters live and what each layer costs, "
    "from torchinfo run on the actual PyTorch modules. Every preset is offered on both sides; *Custom* edits the "
    "layers."
)
link = PageLink()  # the settings below live in the URL: a copied link opens this page as it is now

with st.container(border=True):
    c_batch, c_channels, c_height, c_width = st.columns(4)
    batch_size = link.number_input("Batch size", 1, 1024, 64, key="arch_batch", where=c_batch)
    input_shape = (
        link.number_input("Input channels", 1, 16, 1, key="arch_channels", where=c_channels),
        link.number_input("Input height", 1, 256, 28, key="arch_height", where=c_height),
        link.number_input("Input width", 1, 256, 28, key="arch_width", where=c_width),
    )
    st.caption("The seed notebook prints its summaries for a batch of 64 images of 1×28×28.")
    matched = link.toggle("Size the FC net to the CNN's parameter count", key="arch_matched")
    hidden_layers = 1
    if matched:
        hidden_layers = link.slider("Hidden layers of the matched FC net", 1, 4, 1, key="arch_hidden")


def safe_summary(net: NetSpec | None) -> Summary | None:
    """The summary of `net`, or None with the reason shown (never a traceback)."""
    if net is None:
        return None
    try:
        return summarize(net, int(batch_size))
    except ValueError as exc:  # ShapeError is a ValueError, e.g. a matched FC over the size limits
        st.error(f"{net.name} cannot be summarised: {exc}")
        return None


def kind(net: NetSpec | None) -> str:
    """What a side holds, by its layers: a CNN or a fully connected (FC) net."""
    return "CNN" if net is not None and net.is_cnn else "FC net"


def heading(where, net: NetSpec | None, summary: Summary | None) -> None:
    """A side's heading names what it is and its parameter count (the page's first result, on screen at 720 px)."""
    count = f" · {summary.total_params:,} parameters" if summary is not None else ""
    where.subheader(f"{kind(net)}{count}")


left, right = st.columns(2)
with left:
    left_head = st.empty()
    cnn = model_picker("arch_cnn", "cnn", "ConvNet (CNN notebook)", "Left network", input_shape, link)
    cnn_summary = safe_summary(cnn)
    heading(left_head, cnn, cnn_summary)
with right:
    right_head = st.empty()
    fc = None
    if not matched:
        fc = model_picker("arch_fc", "fc", "FCNet (CNN notebook)", "Right network", input_shape, link)
    elif cnn_summary is not None:
        fc = matched_fc(cnn, hidden_layers=hidden_layers)
    fc_summary = safe_summary(fc)
    heading(right_head, fc, fc_summary)
    if matched and fc_summary is not None:
        st.info(
            f"**{fc.name}**: the hidden width that brings this FC net closest to the left network's "
            f"{cnn_summary.total_params:,} parameters: {fc_summary.total_params:,} "
            f"({fc_summary.total_params / cnn_summary.total_params:.2f}×). The seed notebook matches its nets the "
            "same way, on purpose."
        )


MACS_HELP = ("Mult-adds are multiply-adds for the whole batch, as torchinfo 1.8 counts them: one for every "
             "weight × input product, plus one for each bias addition (bias adds are counted).")


def show_summary(s: Summary) -> None:
    table(summary_frame(s), hide_index=True)


if cnn_summary is not None and fc_summary is not None:
    st.header("Layer summaries")
    st.caption(
        "Output shapes include the batch. " + MACS_HELP + " The notebook's older torchinfo printed 0.93 M for its "
        "ConvNet: one image, weights only."
    )
    # One above the other, full width: side by side, half-width tables hid Params and Mult-adds behind a scroll.
    for summary in (cnn_summary, fc_summary):
        st.markdown(f"**{summary.net_name}**")
        show_summary(summary)
    for column, summary in zip(st.columns(2), (cnn_summary, fc_summary)):
        with column:
            st.markdown(f"**{summary.net_name}**: totals")
            table(totals_frame(summary), hide_index=True)

    st.subheader("Parameters and multiply-adds per image")
    table(cost_frame((cnn_summary, fc_summary)), hide_index=True)
    st.caption(f"Multiples of the first model, {cnn_summary.net_name}. Training one image costs about three times "
               f"its forward multiply-adds (the backward pass computes two gradients, each about one forward).")
    for note in dict.fromkeys(macs_note(s) for s in (cnn_summary, fc_summary)):
        if note:
            st.info(note, icon=":material/calculate:")

    st.header(f"{cnn_summary.net_name} ÷ {fc_summary.net_name}")
    ratios = compare(cnn_summary, fc_summary)
    a, b = cnn_summary, fc_summary
    metrics = (
        ("Parameters", ratios["params"], f"{a.total_params:,} ÷ {b.total_params:,}"),
        ("Multiply-adds", ratios["mult_adds"], f"{a.total_mult_adds:,} ÷ {b.total_mult_adds:,}"),
        ("Estimated memory", ratios["total_mb"], f"{a.total_mb:.2f} MB ÷ {b.total_mb:.2f} MB"),
    )
    for column, (label, ratio, detail) in zip(st.columns(3), metrics):
        column.metric(label, f"{ratio:.2f}×", help=detail)
    st.caption(
        "A convolution reuses one small kernel at every position, so it has few parameters but many "
        "multiply-adds; a linear layer uses each weight once per image. Multiply-adds and activation memory "
        "grow with the batch; parameters do not."
    )

    st.header("Where the parameters live")
    log_y = link.toggle("Logarithmic scale", key="arch_log")
    labels = (f"{kind(cnn)}: {a.net_name}", f"{kind(fc)}: {b.net_name}")
    st.plotly_chart(params_per_layer_figure(a, b, labels, log_y), width="stretch", key="arch_params_chart")

    st.header("PyTorch code")
    for column, net, tag in zip(st.columns(2), (cnn, fc), ("cnn", "fc")):
        code = to_code(net)
        column.code(code, language="python", wrap_lines=True)
        column.download_button(
            "Download .py", code, file_name=f"{tag}_model.py", mime="text/x-python", key=f"arch_code_{tag}"
        )

link.finish()
