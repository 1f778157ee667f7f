"""Shared test set-up: the app's path, and no download attempts unless a test asks for one."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")  # AppTest resolves relative paths against the calling file

# Tests run offline and fast: the data layer skips its download step unless a test re-enables it.
os.environ.setdefault("CNN_DASH_DOWNLOAD", "0")
