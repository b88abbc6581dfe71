"""Drive a real JupyterLab (or Jupyter Notebook 7) from Python, in headless Chromium.

Shared by ``tests/browser``, ``scripts/demo.py --headless``, ``scripts/preview.py`` and the
benchmarks (which take :data:`CHROMIUM_ARGS` from here)::

    from playwright.sync_api import sync_playwright
    from tests import lab as ld

    with ld.start_lab(folder) as server, sync_playwright() as pw:
        browser = ld.launch_browser(pw)
        page = ld.new_page(browser)
        ld.open_notebook(page, server, "demo.ipynb")  # returns once the kernel answers
        ld.run_all(page)
        print(ld.kernel_value(page, "explorer.timestep"))

The pieces:

* ``server.py`` — :func:`start_lab` starts ``python -m jupyter lab|notebook`` as a direct
  child (its PID is the server's own), in a temp folder with its own config, data, runtime,
  settings and workspace dirs, so a run never reads or writes the user's Jupyter state.
  First-start pop-ups (news, update check, toasts) are switched off through user settings.
* ``browser.py`` — Debian's Chromium with the one argument list, :data:`CHROMIUM_ARGS`.
* ``driver.py`` + ``helpers.js`` — the server runs with ``expose_app_in_browser``, so the
  page has ``window.jupyterapp``. Cells are edited through the notebook model and run with the
  app's own commands (as JupyterLab's galata test tool does); the command's promise resolves
  once the kernel has replied *and* gone idle, so a finished cell's outputs are complete. No
  keystrokes into CodeMirror, whose auto-indent would mangle multi-line code.
  :func:`open_notebook` waits until the kernel's websocket is connected and a ``kernel_info``
  request is answered, then runs a throw-away cell printing a unique marker (re-running it if
  the request got lost) and deletes it. Only then is the kernel known to execute what the page
  sends (the idle indicator shows up before that).
* ``explorer.py`` + ``canvas.js`` — :func:`wait_for_explorer` returns once the heatmap has
  really painted (a 2D context, pixels unlike the background), :func:`drag_slider`.
* ``notebook.py`` — :func:`write_notebook`.
"""

from .browser import CHROMIUM, CHROMIUM_ARGS, close_page, launch_browser, new_page
from .driver import (
    kernel_eval,
    kernel_value,
    load_js,
    open_notebook,
    poll_kernel,
    run_all,
    run_cell,
)
from .errors import CellError, LabError
from .explorer import drag_slider, heatmap_state, wait_for_explorer
from .notebook import write_notebook
from .server import LAB_SETTINGS, LabServer, start_lab

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "LAB_SETTINGS",
    "CellError",
    "LabError",
    "LabServer",
    "close_page",
    "drag_slider",
    "heatmap_state",
    "kernel_eval",
    "kernel_value",
    "launch_browser",
    "load_js",
    "new_page",
    "open_notebook",
    "poll_kernel",
    "run_all",
    "run_cell",
    "start_lab",
    "wait_for_explorer",
    "write_notebook",
]
