"""Security settings that must not regress: XSRF on, no raw HTML from users, no pickle from files, and uploads
only where they are validated with Pillow and size-limited, never saved."""
from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [p for d in ("cnn_dash", "pages", "bench", "scripts") for p in (ROOT / d).rglob("*.py")] + \
    [ROOT / "streamlit_app.py"]


def calls(name: str):
    """Every call to a function or method called `name` in the project's sources."""
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
                if called == name:
                    yield path, node


def keyword(node: ast.Call, name: str):
    return next((k.value for k in node.keywords if k.arg == name), None)


def test_xsrf_protection_stays_on():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"].get("enableXsrfProtection", True) is True
    assert config["server"].get("enableCORS", True) is True


def test_no_unsafe_html_anywhere():
    for name in ("markdown", "write", "caption", "html", "title", "header", "subheader"):
        for path, node in calls(name):
            flag = keyword(node, "unsafe_allow_html")
            assert flag is None or (isinstance(flag, ast.Constant) and flag.value is False), \
                f"{path}:{node.lineno} passes unsafe_allow_html"
    # st.html renders raw HTML: allowed once, for the page-wide stylesheet, a constant of nothing but one <style>
    # block (cnn_dash/ui/style.py); nothing a visitor types can reach it.
    allowed = ROOT / "cnn_dash" / "ui" / "style.py"
    for path, node in calls("html"):
        assert path == allowed, f"{path}:{node.lineno} calls st.html (raw HTML)"
        (arg,) = node.args
        assert isinstance(arg, ast.Name) and arg.id == "STYLE", "the stylesheet is a module constant"
    from cnn_dash.ui.style import STYLE

    assert STYLE.startswith("<style>") and STYLE.endswith("</style>") and STYLE.count("<") == 2, STYLE


def test_torch_load_only_with_weights_only():
    for path, node in calls("load"):
        if isinstance(node.func, ast.Attribute) and getattr(node.func.value, "id", None) == "torch":
            flag = keyword(node, "weights_only")
            assert isinstance(flag, ast.Constant) and flag.value is True, \
                f"{path}:{node.lineno}: torch.load without weights_only=True"


def test_pages_stay_thin():
    """Pages never import torch (the core does the torch work) and the core never imports streamlit."""
    for path in (ROOT / "pages").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                assert not any(n == "torch" or n.startswith("torch.") for n in names), f"{path} imports torch"
    for path in (ROOT / "cnn_dash").rglob("*.py"):
        if "ui" in path.relative_to(ROOT / "cnn_dash").parts:
            continue
        assert "import streamlit" not in path.read_text(), f"{path} imports streamlit"


UPLOAD_WIDGETS = ("file_uploader", "camera_input", "audio_input", "chat_input")


def test_uploads_are_small_validated_and_never_saved():
    """One uploader in the app (the 'Try it yourself' picture): the widget takes any type up to the core's ceiling
    (the page refuses, with a reason, what it cannot use) and the server refuses more; its bytes are decoded only by
    drawing.decode_upload (PNG/JPEG only, within the size limit), and nothing is written."""
    from cnn_dash import drawing

    uploaders = [(path, node) for name in UPLOAD_WIDGETS for path, node in calls(name)]
    assert [(p.relative_to(ROOT).as_posix(), n.func.attr) for p, n in uploaders] == \
        [("cnn_dash/ui/draw.py", "file_uploader")]
    (path, node), = uploaders
    assert "type" not in [k.arg for k in node.keywords]  # any file reaches the page, which says what it refused
    assert ast.unparse(keyword(node, "max_upload_size")) == "drawing.UPLOAD_CEILING_MB"
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    # the server refuses more, whatever the browser; a picture over the page's limit still reaches the page
    assert drawing.MAX_UPLOAD_MB < config["server"]["maxUploadSize"] <= drawing.UPLOAD_CEILING_MB <= 10
    source = path.read_text()
    assert source.count("upload.getvalue()") == 1 and "drawing.decode_upload(upload.getvalue())" in source
    for name in ("write_bytes", "write_text", "save", "open", "dump"):  # no upload ever reaches a file
        assert not [n for p, n in calls(name) if p == path], f"{path} calls {name}"
    assert drawing.MAX_UPLOAD_BYTES == drawing.MAX_UPLOAD_MB * 2**20
