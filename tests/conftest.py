"""Shared test setup: quiet TensorFlow, fixed seeds, artifact folder."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")  # figures (lstmviz_widget.plot) are headless
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
