"""cnn-dash router: page config, the navigation over pages/, and the sidebar every page shares."""
import streamlit as st

from cnn_dash.ui.dataset import dataset_sidebar

st.set_page_config(page_title="cnn-dash: CNN vs fully-connected", page_icon=":material/grid_on:", layout="wide")

navigation = st.navigation([
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/architectures.py", title="Architectures", icon=":material/account_tree:"),
])
dataset_sidebar()
navigation.run()
