"""Plotly figure builders, one module per concept; each returns a figure and never shows it."""
