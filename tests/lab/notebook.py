"""Notebooks on disk."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat


def write_notebook(path: str | os.PathLike[str], cells: list[str | tuple[str, str]]) -> Path:
    """Write a notebook with the python3 kernelspec (so no kernel dialog ever shows).

    ``cells`` holds code strings, or ``("markdown", text)`` / ``("code", text)`` pairs.
    """
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    for cell in cells:
        kind, src = ("code", cell) if isinstance(cell, str) else cell
        new = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        nb.cells.append(new(src))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path
