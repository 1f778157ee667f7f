"""The only part of cnn_dash that imports streamlit: shared widgets and session state."""
