"""The Lesson page's widgets: the step in the URL, previous / next with the arrow keys, one step's screen (idea,
question, the class's guess, the live action, the reveal), the teacher's notes, and the handout download."""
from __future__ import annotations

import datetime

import streamlit as st

from cnn_dash import lesson, reveals
from cnn_dash.data import TITLES, Dataset
from cnn_dash.handout import Entry, handout_html
from cnn_dash.ui import draw
from cnn_dash.ui import lesson_actions as actions
from cnn_dash.ui.links import BadValue, parse_int, shown

STEP_PARAM = "step"  # ?step=3 opens the third step
STEP_KEY = "_lesson_step"  # the step last shown (1-based), for a visit without ?step; no widget uses it
GUESSES_KEY = "_lesson_guesses"  # step key -> the class's guess (an answer index); no widget uses it
SCREENS = len(lesson.STEPS) + 1  # the steps, then "What we found today"
LETTERS = "ABCD"


def current_step() -> int:
    """The step to show (1-based): ?step in the URL, else the one shown last, else 1; the URL is kept in step."""
    raw = st.query_params.get_all(STEP_PARAM)
    number = st.session_state.get(STEP_KEY, 1)
    if raw:
        try:
            number = parse_int(raw, 1, SCREENS)
        except BadValue as why:
            st.warning(f"This link's `{STEP_PARAM}={shown(raw)}` cannot be used: {why}; step {number} is shown.",
                       icon=":material/link_off:")
    go_to(number)
    return number


def go_to(number: int) -> None:
    """Show step `number` (1-based) and put it in the URL (also a button callback)."""
    st.session_state[STEP_KEY] = number
    if st.query_params.get(STEP_PARAM) != str(number):
        st.query_params[STEP_PARAM] = str(number)


def navigation(number: int):
    """Previous / next (the ← and → keys too) and the step counter; returns the slot for the handout button, filled
    once the step has run (handout_button)."""
    with st.container(horizontal=True, vertical_alignment="center", key="lesson_nav"):
        st.button("Previous", icon=":material/arrow_back:", key="lesson_prev", shortcut="Left", on_click=go_to,
                  args=(number - 1,), disabled=number == 1)
        st.markdown(f"**Step {number} of {SCREENS}**")
        st.button("Next", icon=":material/arrow_forward:", key="lesson_next", shortcut="Right", on_click=go_to,
                  args=(number + 1,), disabled=number == SCREENS)
        return st.empty()


def _keep_guess(key: str) -> None:
    st.session_state.setdefault(GUESSES_KEY, {})[key] = st.session_state[f"lesson_guess_{key}"]


def guess(step: lesson.Step) -> int | None:
    """The class's guess, picked by the teacher before the action runs; kept across steps."""
    kept = st.session_state.get(GUESSES_KEY, {}).get(step.key)
    return st.segmented_control("The class guesses", range(len(step.answers)), format_func=LETTERS.__getitem__,
                                default=kept, key=f"lesson_guess_{step.key}", on_change=_keep_guess,
                                args=(step.key,))


def answers(step: lesson.Step, reveal: reveals.Reveal | None, guessed: int | None) -> None:
    """The answers as a list; once revealed, the run's answer marked and the class's guess scored."""
    lines = []
    for i, text in enumerate(step.answers):
        mark = ""
        if reveal is not None and reveal.answer == i:
            mark = " :green[**← this run's answer**]"
        elif reveal is None and guessed == i:
            mark = " :blue[← the class's guess]"
        lines.append(f"**{LETTERS[i]}** · {text}{mark}")
    st.markdown("  \n".join(lines))
    if reveal is not None and guessed is not None:
        right = guessed == reveal.answer
        st.caption(f"The class guessed {LETTERS[guessed]}: " + ("right." if right else "not this time."))


def reveal_box(result: actions.Outcome) -> None:
    """The finding with this run's numbers and its takeaway, and how long the action took on which data."""
    st.success(f"{result.reveal.finding}\n\n**Takeaway:** {result.reveal.takeaway}", icon=":material/lightbulb:")
    st.caption(f"{result.seconds:.1f} s on the {result.source}.")


def notes(step: lesson.Step) -> None:
    """The teacher's notes, folded: what to say, the usual misconception, a follow-up question."""
    with st.expander("Teacher notes", icon=":material/school:"):
        st.markdown(f"- **Say:** {step.notes.say}\n- **Misconception:** {step.notes.misconception}\n"
                    f"- **Ask next:** {step.notes.follow_up}")


INSTANT = {"shape": actions.shape_action, "params": actions.params_action, "compute": actions.compute_action}


def step_screen(step: lesson.Step, dataset: Dataset) -> None:
    """One step: the idea across the screen; question, answers, guess and notes on the left; the live action, its
    chart and its reveal on the right (the drawing step: the canvas, the question, the answer in three columns)."""
    st.markdown(f"# {step.title}")  # the page's h1, sized for the screen by ui/style.py
    st.markdown(step.idea)
    if step.key == "draw":  # the canvas first (280 px wide), then the question, then the answer
        canvas, left, right = st.columns([3.8, 3.1, 3.1], gap="medium")
    else:
        left, right = st.columns([4, 6], gap="medium")
    asked = actions.asked(step.key, dataset.name)
    with left:
        st.markdown(f"**{step.question}**")
        answer_slot = st.container()
        with st.container(horizontal=True, vertical_alignment="bottom"):
            guessed = guess(step)
            if step.key != "draw" and not asked:  # once asked, the step shows its action's result
                st.button(step.action, type="primary", icon=":material/play_arrow:", key=f"lesson_go_{step.key}",
                          shortcut="G", on_click=actions.ask, args=(step.key, dataset.name),
                          help="Runs the step's live action (key G).")
        truth = actions.truth_input(dataset) if step.key == "draw" else None
        notes(step)
    with right:
        result = actions.outcome(step.key, dataset.name)
        if step.key == "draw":
            result = _draw(dataset, canvas, truth)
        elif step.key in actions.RUN_STEPS:
            result = _runs(step.key, dataset) or result
        elif asked and result is None:
            with st.spinner("Calculating…"):
                result = INSTANT[step.key](dataset)
        if result is not None:
            for i, figure in enumerate(result.figures if step.key != "draw" else ()):  # the drawing's: handout
                st.plotly_chart(figure, width="stretch", key=f"lesson_fig_{step.key}_{i}")
            reveal_box(result)
    with answer_slot:
        answers(step, result.reveal if result else None, guessed)


def _runs(step_key: str, dataset: Dataset) -> actions.Outcome | None:
    """A training step: its runs' progress while they train, then its outcome."""
    if not actions.asked(step_key, dataset.name):
        return None
    needed = actions.needed_runs(step_key, dataset)
    if needed.error:
        st.error(needed.error)
        return None
    if not needed.ready:
        actions.live(step_key, dataset)
        return None
    return actions.run_outcome(step_key, dataset, needed.runs)


def _draw(dataset: Dataset, canvas, truth: int | None) -> actions.Outcome | None:
    """The drawing step: the race's nets (trained first if needed), then the canvas in its column, then their answers
    once the teacher has said what was drawn."""
    if not actions.asked("draw", dataset.name):
        actions.ask("draw", dataset.name)  # the canvas needs the race's nets: train them as soon as the step opens
    needed = actions.needed_runs("draw", dataset)
    if needed.error:
        st.error(needed.error)
        return None
    if not needed.ready:
        st.caption("The race's nets train first, then answer your drawing.")
        actions.live("draw", dataset)
        return None
    kept = draw.keep_as_drawn(lesson.KEEP)  # above the answer: the canvas column has no room left at 720 px
    with canvas:
        image = actions.drawing_input(dataset, kept)
    nets = needed.runs["race"][0]
    if kept:  # the race's CNN is not built for a digit drawn off-centre: a pair that is, once trained
        nets = _pair(dataset) or nets
        st.caption(f"Answering: {nets.models[0].net.name} vs {nets.models[1].net.name}.")
    if image is None or truth is None:
        st.info("Draw, then say what it is: both nets answer.", icon=":material/draw:")
        return None
    return actions.draw_outcome(dataset, nets, image, truth, kept)


def _pair(dataset: Dataset):
    """The pair built for drawing off-centre (presets.placement_pair) once trained; until then its button, then its
    progress."""
    if actions.asked("draw_pair", dataset.name):
        needed = actions.needed_runs("draw_pair", dataset)
        if needed.error:
            st.error(needed.error)
        elif not needed.ready:
            actions.live("draw_pair", dataset)
        else:
            return needed.runs["pair"][0]
        return None
    found = actions.finished_pair(dataset)
    if found is None:
        st.button("Train a pair built for this", icon=":material/open_with:", key="lesson_pair",
                  on_click=actions.ask, args=("draw_pair", dataset.name),
                  help="Trains a CNN built for digits drawn off-centre (it max-pools over every position) beside "
                       "the race's FC net, on the same batches; the Try-it-yourself page measures both on moved and "
                       "shrunk test digits.")
    return found


def summary_screen(dataset: Dataset) -> None:
    """'What we found today': every step's question, the class's guess and the answer from its run."""
    st.markdown("# What we found today")
    guesses = st.session_state.get(GUESSES_KEY, {})
    rows = []
    for number, step in enumerate(lesson.STEPS, start=1):
        result = actions.outcome(step.key, dataset.name)
        said = guesses.get(step.key)
        guess_text = f" · class: {LETTERS[said]}" if said is not None else ""
        if result is None:
            rows.append(f"{number}. **{step.title}** — not run yet{guess_text}")
        else:
            answer = LETTERS[result.reveal.answer] if result.reveal.answer >= 0 else "none of these"
            rows.append(f"{number}. **{step.title}** — answer {answer}{guess_text}: {result.reveal.finding}")
    st.markdown("\n".join(rows))
    st.caption("The handout (button above) holds every question, the class's numbers and the charts in one HTML "
               "file that opens without a network.")


def handout_entries(dataset: Dataset) -> list[Entry]:
    """Every step with what the class found, for the handout."""
    guesses = st.session_state.get(GUESSES_KEY, {})
    out = []
    for step in lesson.STEPS:
        result = actions.outcome(step.key, dataset.name)
        out.append(Entry(step, result.reveal if result else None, guesses.get(step.key),
                         f"{result.seconds:.1f} s on the {result.source}." if result else "",
                         result.figures if result else ()))
    return out


def handout_button(slot, dataset: Dataset) -> None:
    """Download "What we found today" as one HTML file into `slot` (built only when clicked)."""
    entries = handout_entries(dataset)
    today = datetime.date.today().isoformat()

    def build() -> bytes:
        return handout_html(entries, "What we found today: CNN vs fully-connected",
                            f"{TITLES[dataset.name]} · {today} · cnn-dash lesson").encode()

    slot.download_button("Handout", build, file_name=f"cnn-lesson-{today}.html", mime="text/html",
                       icon=":material/download:", key="lesson_handout", on_click="ignore",
                       disabled=not any(e.reveal for e in entries),
                       help="What we found today: the questions, the class's numbers and the charts, as one HTML "
                            "file that opens offline.")
