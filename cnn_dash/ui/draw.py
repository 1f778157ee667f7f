"""'Try it yourself' widgets: the canvas or an upload turned into a 28×28 input, every model's answer, and the
convolution playground's image and kernel pickers."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from cnn_dash import drawing, features, inference, playground
from cnn_dash.data import Dataset
from cnn_dash.plots import confusion as plots
from cnn_dash.plots.drawing import grid_figure, probabilities_figure
from cnn_dash.runs import Run

DRAWN_KEY = "_draw_image"  # the last prepared 28×28 input (uint8), for the playground; no widget uses it
UPLOAD_KEY = "_draw_upload"  # (uploaders replaced so far, why the last picture was refused); no widget uses it
STROKES_KEY = "_draw_strokes"  # the drawing the canvas redraws after Undo or Clear; no widget uses it
CANVAS_PX = 280  # 10 screen pixels per MNIST pixel; fits a phone's width
SOURCES = ("Draw", "Upload a picture")
CUSTOM = {"Your own 3×3": 3, "Your own 5×5": 5}


def thing(dataset: str | None) -> str:
    """What one image of `dataset` shows: a digit, a garment, or either when no run is chosen."""
    return {"MNIST": "digit", "FashionMNIST": "garment"}.get(dataset or "", "digit or garment")




def _undo(drawing: dict) -> None:
    """Redraw the canvas without its last stroke."""
    st.session_state[STROKES_KEY] = dict(drawing, objects=drawing["objects"][:-1])


def _clear() -> None:
    # An empty drawing that differs from the last one, so that the canvas redraws even after a second Clear.
    st.session_state[STROKES_KEY] = {"objects": [], "cleared": st.session_state.get(STROKES_KEY, {}).get("cleared", 0) + 1}


def canvas_grey(dataset: str | None = None) -> np.ndarray | None:
    """The drawing canvas, with Undo and Clear buttons a thumb can hit (the canvas's own toolbar shows only on
    hover, which a phone does not have); its picture in grey (H, W) uint8, or None while nothing is drawn."""
    st.caption(f"Draw one {thing(dataset)} with the mouse or a finger, as large as the box.")
    result = st_canvas(stroke_width=20, stroke_color="#000000", background_color="#FFFFFF", height=CANVAS_PX,
                       width=CANVAS_PX, drawing_mode="freedraw", return_image_data=True, key="draw_canvas",
                       initial_drawing=st.session_state.get(STROKES_KEY))
    drawing_now = result.json_data or {}
    strokes = drawing_now.get("objects") or []
    with st.container(horizontal=True):
        st.button("Undo", icon=":material/undo:", key="draw_undo", on_click=_undo, args=(drawing_now,),
                  disabled=not strokes, help="Take back the last stroke.")
        st.button("Clear", icon=":material/delete:", key="draw_clear", on_click=_clear, disabled=not strokes,
                  help="Start again on an empty canvas.")
    data = result.image_bytes  # PNG bytes; None until the browser has sent a drawing (and always in AppTest)
    if not data or not strokes:
        return None
    try:  # what the browser sends is checked like an upload: a page must not trust its own component
        grey = drawing.decode_upload(data)
    except drawing.DrawingError as exc:
        st.error(f"The drawing could not be read: {exc}")
        return None
    return None if int(grey.min()) > 250 else grey  # a blank canvas: nothing drawn yet


def upload_grey(dataset: str | None = None) -> np.ndarray | None:
    """A file uploader for one PNG or JPEG, validated with Pillow; grey (H, W) uint8, or None. Never saved.

    The widget takes any file up to drawing.UPLOAD_CEILING_MB and the checks (type, size, pixels) are made here, so
    that a refused file gets a reason and leaves the list (a file the widget refused itself stayed listed)."""
    count, refused = st.session_state.get(UPLOAD_KEY, (0, None))
    key = "draw_upload" if count == 0 else f"draw_upload_{count}"
    upload = st.file_uploader(f"A PNG or JPEG picture of one {thing(dataset)}, at most {drawing.MAX_UPLOAD_MB} MB",
                              max_upload_size=drawing.UPLOAD_CEILING_MB, key=key)
    if upload is None:
        if refused:
            st.error(refused)
        st.caption("Dark ink on white paper or light ink on black both work; crop close to the object. The "
                   "picture stays in memory for this page only and is never stored.")
        return None
    try:
        grey = drawing.decode_upload(upload.getvalue())
    except drawing.DrawingError as exc:
        # Dropped from the list: a fresh uploader replaces this one, with the reason, so that the next picture
        # is not listed beside the refused one.
        st.session_state[UPLOAD_KEY] = (count + 1, f"{upload.name} was not used: {exc}")
        st.rerun()
    st.session_state[UPLOAD_KEY] = (count, None)  # a picture that passed: the last refusal is old news
    return grey


def input_picture(dataset: str | None) -> np.ndarray | None:
    """Draw or upload, as chosen; Fashion-MNIST runs default to upload (a drawn garment rarely looks like one)."""
    default = 1 if dataset == "FashionMNIST" else 0
    # One choice per dataset (the key), so that picking a Fashion-MNIST run switches to upload by itself.
    source = st.radio("Input", SOURCES, index=default, horizontal=True, key=f"draw_source_{dataset or 'none'}",
                      label_visibility="collapsed")
    return canvas_grey(dataset) if source == SOURCES[0] else upload_grey(dataset)


KEEP_LABEL = "Keep my drawing where and how big I drew it (no centring or scaling)"


def keep_as_drawn(label: str = KEEP_LABEL) -> bool:
    """The choice to skip MNIST's centring and scaling, so a digit drawn small or off-centre stays so (a narrow
    column, the lesson's, passes a shorter label: a checkbox's label does not wrap)."""
    return st.checkbox(label, key="draw_keep",
                       help="Keep my drawing where and how big I drew it: MNIST's digits are centred and scaled to "
                            "20×20, and your drawing is too unless you tick this; then the whole box is shrunk to "
                            "28×28 as it is.")


def prepare(grey: np.ndarray, keep: bool = False) -> drawing.Prepared | None:
    """The MNIST recipe applied to a picture (or, with `keep`, the picture kept as drawn); a picture with nothing
    on it is explained, not an error."""
    try:
        prepared = drawing.as_drawn(grey) if keep else drawing.to_mnist(grey)
    except drawing.DrawingError as exc:
        st.warning(str(exc))
        return None
    st.session_state[DRAWN_KEY] = prepared.image
    return prepared


def show_input(prepared: drawing.Prepared, run: Run | None, keep: bool = False) -> None:
    """The 28×28 input the models get, with what was done to make it."""
    images, captions = [prepared.image], ["the 28×28 input"]
    if run is not None and run.settings.permute_pixels:
        images.append(inference.as_seen(prepared.image, run.settings))
        captions.append("shuffled: what the run sees")
    st.plotly_chart(plots.gallery_figure(np.stack(images), captions, columns=2), width="stretch", key="draw_input")
    ink = "inverted to light ink on black" if prepared.inverted else "kept light ink on black"
    if keep:
        st.caption(f"As you drew it: {ink}; the whole box shrunk to 28×28, so the drawing covers "
                   f"{prepared.box[0]}×{prepared.box[1]} pixels where you drew it (MNIST's digits: 20, centred).")
        return
    steps = [ink, f"the object's box scaled to {prepared.box[0]}×{prepared.box[1]} pixels (longest side 20)",
             "centred by its centre of mass in 28×28"]
    st.caption("As MNIST was made: " + "; ".join(steps) + ".")


def predictions(run: Run, image: np.ndarray) -> None:
    """Every model's answer and its probabilities for all classes, side by side."""
    probs = inference.probabilities(run.trained_models(), image, run.settings)
    classes = run.classes
    kinds = {m.label: "CNN" if m.net.is_cnn else "FC net" for m in run.models}
    for label, p in probs.items():
        if not np.isfinite(p).all():  # a diverged model's outputs
            st.markdown(f"**{label}** ({kinds.get(label, 'model')}) gives no answer: its outputs are not finite "
                        "numbers (it diverged).")
            continue
        best = int(np.argmax(p))
        st.markdown(f"**{label}** ({kinds.get(label, 'model')}) says **{classes[best]}** — {p[best]:.0%} sure.")
    st.plotly_chart(probabilities_figure(probs, classes), width="stretch", key="draw_probabilities")


def feature_maps(run: Run, image: np.ndarray) -> None:
    """The chosen CNN's first-layer kernels and every convolution's feature maps for the input."""
    models = run.trained_models()
    cnns = [m.label for m in run.models if m.net.is_cnn and m.label in models]
    if not cnns:
        st.info("This run has no convolutional model: there are no feature maps to show.")
        return
    model = st.selectbox("CNN", cnns, key="draw_cnn") if len(cnns) > 1 else cnns[0]
    st.plotly_chart(plots.kernels_figure(features.first_conv_kernels(models[model])), width="stretch",
                    key="draw_kernels")
    for fm in inference.feature_maps(models[model], image, run.settings):
        title = f"{fm.label}: {fm.maps.shape[0]} maps of {fm.maps.shape[1]}×{fm.maps.shape[2]}"
        st.plotly_chart(plots.feature_maps_figure(fm.maps, title), width="stretch", key=f"draw_maps_{fm.name}")


def playground_image(dataset: Dataset | None) -> tuple[np.ndarray, str] | None:
    """A test image of the sidebar's dataset, or the input from the first tab; with a caption."""
    drawn = st.session_state.get(DRAWN_KEY)
    options = ["A test image"] + (["Your drawing or upload"] if drawn is not None else [])
    source = st.radio("Image", options, horizontal=True, key="play_source")
    if source != options[0] and drawn is not None:
        return drawn, "your input, 28×28"
    if dataset is None:
        return None
    n = len(dataset.test_labels)
    index = int(st.number_input(f"Test image # (0–{n - 1})", 0, n - 1, 0, key="play_index"))
    return dataset.test_images[index].numpy(), f"#{index}: {dataset.classes[int(dataset.test_labels[index])]}"


def kernel_picker() -> tuple[np.ndarray, str]:
    """A preset kernel, or your own 3×3 / 5×5 typed into a grid (starting from the identity); with its name."""
    name = st.selectbox("Kernel", list(playground.PRESETS) + list(CUSTOM), key="play_kernel")
    if name not in CUSTOM:
        return playground.preset(name), name
    size = CUSTOM[name]
    start = np.zeros((size, size), dtype=np.float32)
    start[size // 2, size // 2] = 1.0
    st.caption("Type a weight into any cell; the output updates as you leave the cell.")
    table = st.data_editor(pd.DataFrame(start, columns=[str(c) for c in range(size)]), key=f"play_grid_{size}",
                           num_rows="fixed", hide_index=True)
    return table.to_numpy(dtype=np.float32, na_value=np.nan), name


def figure(values: np.ndarray, title: str, key: str, **style) -> None:
    """One small heatmap (see plots.drawing.grid_figure), full width of its column."""
    st.plotly_chart(grid_figure(values, title, **style), width="stretch", key=key)


def trained_kernels(runs: list[Run], image: np.ndarray) -> None:
    """A trained CNN's first-layer kernels, and what each makes of the playground's image (through F.conv2d)."""
    choices = {f"{run.name} · {m.label}": (run, m.label) for run in reversed(runs) for m in run.models
               if m.net.is_cnn}
    if not choices:
        st.caption("Train a run with a CNN (the Quick demo has one) to apply its learned kernels here.")
        return
    run, label = choices[st.selectbox("Trained CNN", list(choices), key="play_cnn")]
    model = run.trained_models()[label]
    try:
        maps = playground.apply_first_layer(model, image, run.settings)
    except ValueError as exc:  # ShapeError included
        st.warning(f"Its first layer cannot be applied to one grey image: {exc}.")
        return
    st.plotly_chart(plots.kernels_figure(features.first_conv_kernels(model)), width="stretch", key="play_kernels")
    title = f"{label}: its {maps.shape[0]} first-layer kernels on this image, {maps.shape[1]}×{maps.shape[2]}"
    st.plotly_chart(plots.feature_maps_figure(maps, title), width="stretch", key="play_maps")
    st.caption("Learned kernels are edge and blob detectors much like the presets above"
               + (", learned on shuffled pixels, so here they see an unshuffled image." if run.settings.permute_pixels
                  else "."))
