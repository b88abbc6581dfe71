"""`LSTMExplorer.save_html()`: one self-contained HTML file that renders and scrubs offline.

``ipywidgets.embed.embed_minimal_html`` would load require.js and the widget HTML manager from
CDNs, and with its default ``drop_defaults=True`` it drops the anywidget ``_esm`` (the page
then fails with "Class null not found"). So the page is put together here, from:

- the widget state of ``ipywidgets.embed.embed_data(views=[widget], drop_defaults=False)``
  for this widget alone (arrays travel base64-encoded, as ipywidgets embeds buffers), and its
  view spec;
- require.js and ``@jupyter-widgets/html-manager``'s ``dist/embed-amd.js``, copied into
  ``lstmviz_widget/static/`` by ``npm run build`` (scripts/copy-static.mjs);
- anywidget's own AMD bundle, read from the installed anywidget package (so its version is the
  one whose ``_esm`` protocol the state uses), registered as the AMD module ``anywidget``: the
  HTML manager asks require.js for a widget's module and only falls back to a CDN when the
  module is not defined, so with every module defined the page makes no network request.

A tiled explorer (``tiles=``) embeds its pyramid instead of the live `_data`: every tile
from the coarsest level down to the finest that fits 50 MB (``widget._offline_data()``,
:func:`.payload_tiled.offline_payload`); the page never asks the kernel for tiles.

All of it is inlined: the file opens from ``file://`` with no kernel and no network. Text
that comes from the user ends up escaped: the title with ``html.escape``, the state and view
JSON with every ``<``, ``>`` and ``&`` written as ``\\u003c``-style escapes (so no ``</script>``
or ``<!--`` inside can end the script element), and the inlined scripts with ``</script`` and
``<!--`` written as ``\\x3C``.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
from pathlib import Path
from typing import Any

from .._files import refuse_existing, write_bytes_atomic

STATIC = Path(__file__).resolve().parent.parent / "static"
#: Files of static/ that the page inlines (copied there by `npm run build`).
ASSETS = ("require.js", "embed-amd.js")
SUFFIXES = (".html", ".htm")

_SOURCE_MAP = re.compile(r"^\s*//[#@] sourceMappingURL=.*$", re.MULTILINE)
_SCRIPT_END = re.compile(r"<(?=/script|!--)", re.IGNORECASE)

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
  body {{ margin: 0; padding: 16px 20px; background: #fff; color: #222;
         font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }}
  .lstmviz-page-title {{ font-size: 15px; font-weight: 600; margin: 0 0 10px; }}
  .lstmviz-page {{ max-width: 1200px; }}
</style>
</head>
<body>
<h1 class="lstmviz-page-title">{title}</h1>
<div class="lstmviz-page">
<script type="application/vnd.jupyter.widget-state+json">
{state}
</script>
<script type="application/vnd.jupyter.widget-view+json">
{view}
</script>
</div>
<script>
{requirejs}
</script>
<script>
{anywidget}
</script>
<script>
{embed}
</script>
</body>
</html>
"""


def save_html(
    widget: Any,
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    title: str | None = None,
    tile_budget: int | None = None,
) -> Path:
    """Write ``widget`` as one standalone HTML page; see :meth:`LSTMExplorer.save_html`."""
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise ValueError(f"the file name must end in .html or .htm, got {path.name!r}")
    refuse_existing(path, overwrite=overwrite)
    if title is None:
        name = str((getattr(widget, "_data", None) or {}).get("model_name") or "model")
        title = f"LSTM explorer of {name}"
    elif not isinstance(title, str):
        raise TypeError(f"title must be a str, got {type(title).__name__}")
    page = render_page(widget, title, tile_budget)
    return write_bytes_atomic(path, page.encode("utf-8"), overwrite=overwrite)


def render_page(widget: Any, title: str, tile_budget: int | None = None) -> str:
    """The standalone page of ``widget`` as a string."""
    from ipywidgets.embed import dependency_state, embed_data

    assets = {name: _read_asset(name) for name in ASSETS}
    state = dependency_state([widget], drop_defaults=False)
    offline_data = getattr(widget, "_offline_data", None)
    offline = None
    if offline_data is not None:
        offline = offline_data() if tile_budget is None else offline_data(tile_budget)
    if offline is not None:  # a tiled explorer: its pyramid down to what fits the budget
        state[widget.model_id] = _embed_state(widget, offline)
    data = embed_data(views=[widget], drop_defaults=False, state=state)
    return _PAGE.format(
        title=html.escape(title),
        state=json_for_script(data["manager_state"]),
        view=json_for_script(data["view_specs"][0]),
        requirejs=script_text(assets["require.js"]),
        anywidget=script_text(_anywidget_amd()),
        embed=script_text(assets["embed-amd.js"]),
    )


def _embed_state(widget: Any, data: dict[str, Any]) -> dict[str, Any]:
    """``widget``'s embed state (as ipywidgets writes it) with ``data`` as its `_data`."""
    from base64 import standard_b64encode

    from ipywidgets.widgets.widget import _remove_buffers

    full = {**widget.get_state(drop_defaults=False), "_data": data}
    model_state, paths, buffers = _remove_buffers(full)
    out = {
        "model_name": widget._model_name,
        "model_module": widget._model_module,
        "model_module_version": widget._model_module_version,
        "state": model_state,
    }
    if buffers:
        out["buffers"] = [
            {"encoding": "base64", "path": p, "data": standard_b64encode(d).decode("ascii")}
            for p, d in zip(paths, buffers, strict=True)
        ]
    return out


def json_for_script(value: Any) -> str:
    """JSON that is safe as the text of a ``<script>`` element: ``<``, ``>`` and ``&`` (only
    ever inside JSON strings) become ``\\u003c``, ``\\u003e``, ``\\u0026``; parsing gives back
    the same value."""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except ValueError:  # NaN/inf: null, as Jupyter's own message packer sends them
        text = json.dumps(_finite(value), ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def script_text(source: str) -> str:
    """JavaScript made safe to inline in ``<script>``: no ``</script`` or ``<!--`` (their
    ``<`` becomes ``\\x3C``, the same character inside strings, regexps and comments, where
    alone they can occur in code) and no source-map comments (nothing to fetch)."""
    return _SCRIPT_END.sub(r"\\x3C", _SOURCE_MAP.sub("", source))


def _read_asset(name: str) -> str:
    path = STATIC / name
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{path} is missing: save_html() inlines it into the page. Run `npm run build` "
            "in the lstmviz-widget source tree (it copies require.js and the widget HTML "
            "manager into lstmviz_widget/static/), or reinstall the package."
        ) from None


def _anywidget_amd() -> str:
    """anywidget's AMD bundle (``define([deps], factory)``, anonymous) as the named module
    ``anywidget``: an anonymous define in an inline script would have no name to load it by."""
    import anywidget

    path = Path(anywidget.__file__).resolve().parent / "nbextension" / "index.js"
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{path} is missing: save_html() needs anywidget's notebook bundle "
            "(reinstall anywidget)"
        ) from None
    return (
        "(function (define) {\n"
        + source
        + "\n})(function (name, deps, factory) {\n"
        + '  return typeof name === "string" ? window.define(name, deps, factory)\n'
        + '    : window.define("anywidget", name, deps);\n'
        + "});"
    )
