"""Try it yourself: draw or upload a digit for every model of a run; a convolution playground with your kernels."""
import streamlit as st

from cnn_dash import playground
from cnn_dash.shapes import ShapeError
from cnn_dash.ui import draw as ui
from cnn_dash.ui import evaluation as runs_ui
from cnn_dash.ui import placement as placement_ui
from cnn_dash.ui import training as training_ui
from cnn_dash.ui.dataset import selected_dataset
from cnn_dash.ui.routing import through_router

through_router()

st.title("Try it yourself")
draw_tab, play_tab = st.tabs(["Draw or upload", "Convolution playground"], key="draw_tab", on_change="rerun")
runs = runs_ui.evaluable_runs()

# ---- Draw or upload ----------------------------------------------------------------------------------
if draw_tab.open:
    with draw_tab:
        pair = None if runs_ui.shared() else placement_ui.pair_in_training()  # picked once it has ended
        run = runs_ui.run_picker(runs, key=placement_ui.RUN_PICKER_KEY) if runs else None
        st.caption(placement_ui.invitation(run))
        if pair is not None:
            placement_ui.pair_progress(pair)
        elif run is not None and not runs_ui.shared():
            placement_ui.placement_pair_button(run)
        keep = ui.keep_as_drawn()
        # The answer beside the canvas at 1280×720, and right under it on a phone: each stroke and its result
        # are on screen together.
        picture_col, answer_col = st.columns(2)
        with picture_col:
            grey = ui.input_picture(run.settings.dataset if run else None)
        prepared = ui.prepare(grey, keep) if grey is not None else None
        with answer_col:
            if run is not None and prepared is not None:
                ui.predictions(run, prepared.image)
            if prepared is not None:
                ui.show_input(prepared, run, keep)
        if run is None:
            runs_ui.no_run_yet("No finished training run in this browser yet: train one to see what its models "
                               "make of your drawing. The Quick demo on the Training page trains a CNN beside an "
                               f"FC net ({training_ui.quick_demo_time()} on this server, estimated).",
                               label="Go to Training (Quick demo)")
        elif prepared is not None:
            st.subheader("Inside the CNN")
            ui.feature_maps(run, prepared.image)

# ---- Convolution playground --------------------------------------------------------------------------
if play_tab.open:
    with play_tab:
        st.caption("`nn.Conv2d` learns its kernels; `torch.nn.functional.conv2d` slides the kernel you give it. "
                   "Pick an image and a kernel, and watch what the kernel picks out.")
        image_col, kernel_pick_col = st.columns(2)
        with image_col:
            picked = ui.playground_image(selected_dataset())
        with kernel_pick_col:
            kernel, kernel_name = ui.kernel_picker()
        if picked is None:
            st.stop()
        image, caption = picked
        stride_col, padding_col, dilation_col = st.columns(3)
        # The ranges are in the labels: a box refuses a number outside its range without a word.
        stride = int(stride_col.number_input("stride (1–10)", 1, 10, 1, key="play_stride"))
        padding = int(padding_col.number_input("padding (0–10)", 0, 10, 0, key="play_padding"))
        dilation = int(dilation_col.number_input("dilation (1–28)", 1, 28, 1, key="play_dilation",
                                                 help="Spacing between the kernel's taps: a 3×3 kernel with "
                                                      "dilation d spans 2d + 1 pixels, so past 13 it is wider "
                                                      "than a 28×28 image and the page says why."))
        try:
            conv = playground.apply_kernel(image, kernel, stride, padding, dilation)
        except ShapeError as exc:
            st.error(f"This convolution is not possible: {exc}. Change the kernel, stride, padding or dilation.")
            st.stop()
        kh, kw = kernel.shape
        st.markdown(f"`F.conv2d(image, kernel, stride={stride}, padding={padding}, dilation={dilation})`: "
                    f"input (1, {image.shape[0]}, {image.shape[1]}) → output **{conv.shape}**, as the shape "
                    "calculator computes for `nn.Conv2d(1, 1, "
                    f"kernel_size=({kh}, {kw}), stride={stride}, padding={padding}, dilation={dilation})`.")
        in_col, kernel_col, out_col = st.columns([2, 1.4, 2])
        with in_col:
            ui.figure(image, f"Input {caption}", "play_in")
        with kernel_col:
            ui.figure(kernel, kernel_name, "play_kernel_fig", signed=True, text=True)
        with out_col:
            ui.figure(conv.output, f"Output {conv.shape[1]}×{conv.shape[2]}", "play_out", signed=True)
        st.caption("Pixels are scaled to 0–1. Red is negative, blue positive: an edge kernel answers strongly on "
                   "one side of a stroke and negatively on the other; a blur answers everywhere a little.")

        st.subheader("Max vs average pooling of the output")
        size = int(st.radio("Pooling window (stride the same)", [2, 3], horizontal=True, key="play_pool"))
        for col, kind in zip(st.columns(2), playground.POOLS):
            with col:
                try:
                    pooled, shape = playground.pool(conv.output, kind, size)
                except ShapeError as exc:
                    st.warning(f"{kind}({size}) cannot pool this output: {exc}.")
                    continue
                ui.figure(pooled, f"{kind}({size}) → {shape}", f"play_{kind}", signed=True)
        st.caption("Max pooling keeps the strongest answer in each window (sharp, the feature is there or not); "
                   "average pooling keeps the mean (smoother, weak answers dilute strong ones).")

        st.subheader("A trained CNN's first-layer kernels on the same image")
        ui.trained_kernels(runs, image)
