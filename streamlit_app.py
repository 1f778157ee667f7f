"""cnn-dash router: page config, the navigation over pages/, and the sidebar every page shares."""
import streamlit as st

from cnn_dash.ui.dataset import dataset_sidebar
from cnn_dash.ui.owner import handshake
from cnn_dash.ui.sidebar import fold_sidebar_when_narrow
from cnn_dash.ui.style import page_style
from cnn_dash.ui.training import store_notices

st.set_page_config(page_title="cnn-dash: CNN vs fully-connected", page_icon=":material/grid_on:", layout="wide")

navigation = st.navigation([
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/lesson.py", title="Lesson", icon=":material/co_present:"),
    st.Page("pages/shapes.py", title="Shape calculator", icon=":material/calculate:"),
    st.Page("pages/architectures.py", title="Architectures", icon=":material/account_tree:"),
    st.Page("pages/training.py", title="Training", icon=":material/model_training:"),
    st.Page("pages/evaluation.py", title="Evaluation", icon=":material/grid_view:"),
    st.Page("pages/draw.py", title="Try it yourself", icon=":material/draw:"),
])
page_style()
fold_sidebar_when_narrow()  # a narrow desktop window: the sidebar folded, not over or beside the page
handshake()  # the browser's owner token: its runs come back after a reload
store_notices()
dataset_sidebar()
navigation.run()
