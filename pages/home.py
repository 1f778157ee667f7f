"""Home: what the dashboard shows, the dataset in use, and a grid of example images."""
import streamlit as st

from cnn_dash.data import TITLES, examples
from cnn_dash.plots.images import tiles
from cnn_dash.ui.dataset import selected_dataset, source_details
from cnn_dash.ui.routing import through_router

through_router()

PAGES = (  # (file, title, icon, what it shows)
    ("pages/shapes.py", "Shape calculator", ":material/calculate:", "How convolution and pooling change a tensor's "
     "shape, with PyTorch's exact arithmetic, up to the in_features of the first Linear."),
    ("pages/architectures.py", "Architectures", ":material/account_tree:", "Layer-by-layer summaries of a CNN and "
     "an FC net side by side: where the parameters live and what each layer costs."),
    ("pages/training.py", "Training", ":material/model_training:", "Train a CNN and an FC net side by side on the "
     "same batches and watch the curves."),
    ("pages/evaluation.py", "Evaluation", ":material/grid_view:", "Confusion matrices: what each model gets wrong, "
     "and where the CNN wins."),
    ("pages/draw.py", "Try it yourself", ":material/draw:", "Draw a digit for every model of a run, and slide your "
     "own kernels over an image."),
)

st.title("Why do convolutional networks beat fully-connected ones on images?")
st.markdown(
    "A fully-connected (FC) network sees an image as 784 unrelated numbers. A convolutional network (CNN) slides "
    "small kernels over it: the same few weights look at every neighbourhood, so it needs far fewer parameters and "
    "knows that nearby pixels belong together. This dashboard lets you check that claim with real numbers."
)
with st.container(border=True):
    st.markdown("**Start here:** the Quick demo trains a small CNN beside an FC net on the same images, in seconds, "
                "and every other page then has a run to show.")
    st.page_link("pages/training.py", label="Quick demo (Training page)", icon=":material/bolt:")
for page, label, icon, what in PAGES:
    st.page_link(page, label=label, icon=icon)
    st.caption(what)
st.caption("Pick the dataset in the sidebar; every page uses it.")

dataset = selected_dataset()
if dataset is not None:
    st.subheader(f"{TITLES[dataset.name]}: {dataset.size_text}")
    source_details(dataset)
    seed = st.number_input("Example set", min_value=0, max_value=10_000, value=0, step=1,
                           help="Another number picks other test images, two of every class.")
    images, labels = examples(dataset, per_class=2, seed=int(seed))
    st.image(tiles(images), caption=[dataset.classes[i] for i in labels.tolist()])
    st.caption("Each image is 28×28 grey pixels stored as bytes (0–255); "
               "the models see them standardised with the dataset's mean and standard deviation.")
