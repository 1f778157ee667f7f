"""Lesson: a guided path for a class on a projector — one idea per step, a question before each live action, and the
answer revealed from the action's own numbers; a handout of what the class found."""
import streamlit as st

from cnn_dash.lesson import STEPS
from cnn_dash.ui import lesson as ui
from cnn_dash.ui.dataset import selected_dataset
from cnn_dash.ui.routing import through_router

through_router()

dataset = selected_dataset()
if dataset is None:
    st.stop()
number = ui.current_step()
with st.container(key="lesson_page"):
    handout = ui.navigation(number)
    if number <= len(STEPS):
        ui.step_screen(STEPS[number - 1], dataset)
    else:
        ui.summary_screen(dataset)
    ui.handout_button(handout, dataset)
