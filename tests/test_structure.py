"""The code review's list, checked on the code itself: no display label taken apart, no import cycle between runs
and sweeps, and no feature that reaches into the training engine (they ask cnn_dash.inference)."""
from __future__ import annotations

import ast
import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT

SOURCES = sorted([*(ROOT / "cnn_dash").rglob("*.py"), *(ROOT / "pages").glob("*.py"), ROOT / "streamlit_app.py"])
# "A · Small CNN (Adam 0.008)".split(" ·")[0] or .rsplit(" (", 1): a label read back as if it were data
LABEL_PARSING = re.compile(r"""\.r?split\(\s*(['"])\s*(·|\()""")
FEATURES = ("cnn_dash/ui/draw.py", "cnn_dash/ui/evaluation.py", "cnn_dash/shift.py", "cnn_dash/features.py",
            "cnn_dash/playground.py", "cnn_dash/drawing.py", "cnn_dash/inference.py", "pages/draw.py",
            "pages/evaluation.py")


def test_the_pattern_finds_label_parsing():
    for line in ("label.split(' ·')[0]", 'label.split(" · ", 1)[1]', "label.rsplit(' (', 1)[0]", "x.split( ' ·')"):
        assert LABEL_PARSING.search(line), line
    assert not LABEL_PARSING.search("text.split(',')") and not LABEL_PARSING.search('" · ".join(parts)')


def test_no_code_takes_a_display_label_apart():
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for path in SOURCES for number, line in enumerate(path.read_text().splitlines(), 1)
             if LABEL_PARSING.search(line)]
    assert not found, "read ModelConfig.letter / short / named / detail instead:\n" + "\n".join(found)


def top_level_imports(path) -> set[str]:
    """The cnn_dash modules a file imports when it loads (`if TYPE_CHECKING:` blocks and functions left out)."""
    out = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}  # `from cnn_dash import train`
    return {name for name in out if name.startswith("cnn_dash") and module_path(name) is not None}


def module_path(name: str):
    base = ROOT.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def imported_by(path) -> set[str]:
    """Every cnn_dash module a file loads, directly or through the modules it imports."""
    seen: set[str] = set()
    todo = list(top_level_imports(path))
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += top_level_imports(module_path(name))
    return seen


@pytest.mark.parametrize("feature", FEATURES)
def test_no_feature_imports_the_training_engine(feature):
    direct = top_level_imports(ROOT / feature)
    assert "cnn_dash.train" not in direct, f"{feature} imports cnn_dash.train: ask cnn_dash.inference instead"


@pytest.mark.parametrize("module", ["cnn_dash/ui/draw.py", "cnn_dash/shift.py", "cnn_dash/runs.py", "cnn_dash/training.py",
                                    "cnn_dash/inference.py", "cnn_dash/playground.py", "cnn_dash/drawing.py"])
def test_not_even_through_another_module(module):
    assert "cnn_dash.train" not in imported_by(ROOT / module)


def test_runs_do_not_import_sweeps_nor_the_engine():
    code = ("import sys, cnn_dash.runs, cnn_dash.shift, cnn_dash.drawing, cnn_dash.playground; "
            "print(sorted(m for m in ('cnn_dash.sweep', 'cnn_dash.train', 'cnn_dash.scheduler') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    assert "cnn_dash.runs" not in imported_by(ROOT / "cnn_dash/sweep.py")  # only for type hints
