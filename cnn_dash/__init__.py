"""cnn_dash: the torch work behind the dashboard (no streamlit outside cnn_dash.ui)."""
