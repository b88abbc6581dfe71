"""Screenshots of the real widget on real captures, without JupyterLab: for looking at views.

``python scripts/preview.py [--fixture NAME ...] [--theme light|dark|both] [--view NAME]``
renders the built bundle (``lstmviz_widget/static/widget.js``; ``--build`` runs ``npm run
build`` first) with a fake anywidget model in headless Chromium, one page per fixture and
theme, and writes ``artifacts/preview/<fixture>-<theme>.png`` (the whole widget) plus one PNG
per ``[data-view]`` element (``<fixture>-<theme>-<view>.png``). Console errors and uncaught
page errors are printed (and make the exit status 1).

Fixtures (captures are cached in ``artifacts/preview/cache``; ``--fresh`` recomputes them):

- ``lstm``: two stacked LSTMs on a numeric signal, per-step softmax head, labels, gradients.
- ``text``: Embedding → LSTM on characters (tokens on the time axis, one is an XSS string).
- ``attention``: encoder–decoder LSTMs with ``Attention`` and a ``MultiHeadAttention``.
- ``gru``: GRU → SimpleRNN stack (no cell state; the SimpleRNN has no gates).
- ``bidir``: a Bidirectional LSTM (two directions) with a padded batch (ragged lengths).
- ``long``: a synthetic 100,000-step × 256-unit LSTM (bench/synthetic.py; no Keras).

Actions before the shots: ``--timestep N``, ``--keys "ArrowRight,+,+"`` (pressed on the
focused widget), ``--layer NAME``, ``--quantity Q``, ``--select 1,2``, ``--hover U``.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

OUT = ROOT / "artifacts" / "preview"
CACHE = OUT / "cache"
FIXTURES = ("lstm", "text", "attention", "gru", "bidir", "long")
XSS = "<img src=x onerror=alert(1)>"

DARK = """
body { background: #111; }
:root {
  --jp-layout-color1: #111111; --jp-layout-color2: #212121; --jp-layout-color0: #000;
  --jp-ui-font-color1: rgba(255,255,255,0.87); --jp-ui-font-color2: rgba(255,255,255,0.54);
  --jp-border-color1: #616161; --jp-border-color2: #424242; --jp-brand-color1: #42a5f5;
  --jp-input-background: #212121; --jp-success-color1: #66bb6a; --jp-error-color1: #ef5350;
}
"""

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>lstmviz preview</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="/lstmviz_widget/static/widget.css">
<style>body { margin: 8px; font-family: sans-serif; } %(theme)s</style></head>
<body><div id="out" style="width: %(width)dpx"></div>
<script type="module">
const enc = await (await fetch("%(json)s")).json();
const bin = await (await fetch("%(bin)s")).arrayBuffer();
function revive(v) {
  if (Array.isArray(v)) return v.map(revive);
  if (v && typeof v === "object") {
    if ("$buffer" in v) return new DataView(bin, v.$buffer[0], v.$buffer[1]);
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = revive(x);
    return o;
  }
  return v;
}
const state = revive(enc);
const handlers = new Map();
const model = {
  get: (k) => state[k],
  set: (k, v) => { state[k] = v; },
  save_changes: () => { window.__saves = (window.__saves || 0) + 1; },
  on: (e, cb) => { if (!handlers.has(e)) handlers.set(e, new Set()); handlers.get(e).add(cb); },
  off: (e, cb) => handlers.get(e)?.delete(cb),
  send: () => {},
  widget_manager: {},
};
window.__model = model;
window.__fromPython = (k, v) => {
  state[k] = v;
  for (const cb of handlers.get("change:" + k) || []) cb();
};
const mod = await import("/lstmviz_widget/static/widget.js");
const t0 = performance.now();
window.__cleanup = mod.default.render({ model, el: document.getElementById("out") });
requestAnimationFrame(() => requestAnimationFrame(() => {
  window.__firstRender = performance.now() - t0;
  window.__ready = true;
}));
</script></body></html>
"""


# --- fixtures ---------------------------------------------------------------------------------


def _lstm() -> Any:
    import keras

    from lstmviz_widget import capture

    keras.utils.set_random_seed(0)
    inp = keras.Input((None, 3))
    h = keras.layers.LSTM(24, return_sequences=True, name="lstm_1")(inp)
    h = keras.layers.LSTM(16, return_sequences=True, name="lstm_2")(h)
    out = keras.layers.Dense(3, activation="softmax", name="head")(h)
    model = keras.Model(inp, out, name="forecaster")
    t = np.arange(60)
    rng = np.random.default_rng(0)
    x = np.stack(
        [
            np.stack([np.sin(t / 5 + p), np.cos(t / 9 + p), rng.normal(0, 0.3, 60)], -1)
            for p in (0, 1, 2)
        ]
    ).astype(np.float32)
    y = (x[..., 0] > 0.3).astype(int) + (x[..., 1] > 0.5).astype(int)
    return capture(model, x, y=y, gradients=True, loss="sparse_categorical_crossentropy")


def _text() -> Any:
    import keras

    from lstmviz_widget import capture

    keras.utils.set_random_seed(1)
    text = 'print("hello (world)") # ok'
    chars = sorted(set(text))
    ids = np.array([[chars.index(c) + 1 for c in text]])
    tokens = [list(text)]
    tokens[0][3] = XSS
    inp = keras.Input((None,), dtype="int32")
    e = keras.layers.Embedding(len(chars) + 1, 8, name="embed")(inp)
    h = keras.layers.LSTM(32, return_sequences=True, name="char_lstm")(e)
    out = keras.layers.Dense(len(chars) + 1, activation="softmax", name="next_char")(h)
    model = keras.Model(inp, out, name="char_model")
    y = np.roll(ids, -1, axis=1)
    return capture(
        model, ids, tokens=tokens, y=y, gradients=True, loss="sparse_categorical_crossentropy"
    )


def _attention() -> Any:
    import keras

    from lstmviz_widget import capture

    keras.utils.set_random_seed(2)
    enc_in = keras.Input((12, 4), name="enc_in")
    dec_in = keras.Input((9, 4), name="dec_in")
    enc_seq, sh, sc = keras.layers.LSTM(
        16, return_sequences=True, return_state=True, name="encoder"
    )(enc_in)
    dec_seq = keras.layers.LSTM(16, return_sequences=True, name="decoder")(
        dec_in, initial_state=[sh, sc]
    )
    ctx = keras.layers.Attention(name="attention")([dec_seq, enc_seq])
    mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4, name="mha")(dec_seq, enc_seq)
    out = keras.layers.Dense(5, activation="softmax", name="out")(
        keras.layers.Concatenate()([dec_seq, ctx, mha])
    )
    model = keras.Model([enc_in, dec_in], out, name="seq2seq")
    rng = np.random.default_rng(2)
    return capture(model, [rng.normal(size=(2, 12, 4)), rng.normal(size=(2, 9, 4))])


def _gru() -> Any:
    import keras

    from lstmviz_widget import capture

    keras.utils.set_random_seed(3)
    inp = keras.Input((None, 2))
    h = keras.layers.GRU(12, return_sequences=True, name="gru")(inp)
    h = keras.layers.SimpleRNN(8, return_sequences=True, name="simple_rnn")(h)
    out = keras.layers.Dense(1, name="value")(h)
    model = keras.Model(inp, out, name="gru_stack")
    x = np.random.default_rng(3).normal(size=(2, 40, 2)).astype(np.float32)
    return capture(model, x, y=x[..., :1].cumsum(1) * 0.1, gradients=True, loss="mse")


def _bidir() -> Any:
    import keras

    from lstmviz_widget import capture

    keras.utils.set_random_seed(4)
    inp = keras.Input((None, 3))
    h = keras.layers.Masking()(inp)
    h = keras.layers.Bidirectional(keras.layers.LSTM(10, return_sequences=True), name="bi")(h)
    out = keras.layers.Dense(2, activation="softmax")(h)
    model = keras.Model(inp, out, name="tagger")
    rng = np.random.default_rng(4)
    seqs = [rng.normal(size=(n, 3)).astype(np.float32) for n in (30, 22, 14)]
    return capture(model, seqs)


def _long() -> Any:
    sys.path.insert(0, str(ROOT / "bench"))
    from synthetic import synthetic_capture

    return synthetic_capture(units=256, steps=100_000, attention=False)


def load_fixture(name: str, fresh: bool = False) -> Any:
    from lstmviz_widget import Capture

    path = CACHE / f"{name}.npz"
    if path.exists() and not fresh:
        return Capture.load(path)
    cap = globals()[f"_{name}"]()
    CACHE.mkdir(parents=True, exist_ok=True)
    cap.save(path, overwrite=True)
    return cap


# --- page -----------------------------------------------------------------------------------


def write_state(widget: Any, stem: Path) -> None:
    """The widget's state as the browser gets it: JSON with buffers in one binary file."""
    from ipywidgets.widgets.widget import _remove_buffers

    state = widget.get_state()
    stripped, paths, buffers = _remove_buffers(state)
    blob = bytearray()
    for path, buf in zip(paths, buffers, strict=True):
        mv = memoryview(buf).cast("B")
        while len(blob) % 8:
            blob.append(0)
        ref = {"$buffer": [len(blob), mv.nbytes]}
        blob += mv
        node = stripped
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = ref
    stem.with_suffix(".json").write_text(json.dumps(stripped))
    stem.with_suffix(".bin").write_bytes(bytes(blob))


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serve(root: Path):
    handler = functools.partial(_Quiet, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--fixture", nargs="*", default=["lstm", "text", "attention", "gru"], choices=FIXTURES
    )
    ap.add_argument("--theme", choices=["light", "dark", "both"], default="both")
    ap.add_argument("--view", help="only shoot this [data-view] (plus the whole widget)")
    ap.add_argument("--width", type=int, default=1180)
    ap.add_argument("--timestep", type=int)
    ap.add_argument("--layer")
    ap.add_argument("--quantity")
    ap.add_argument("--select", help="comma-separated unit ids for selected_units")
    ap.add_argument("--hover", type=int, help="hover this unit (sets hoverUnit via the heatmap)")
    ap.add_argument("--keys", help="comma-separated keys pressed on the widget, e.g. ArrowRight,+")
    ap.add_argument("--transport", choices=["float32", "float16"], default="float32")
    ap.add_argument("--build", action="store_true", help="run npm run build first")
    ap.add_argument("--fresh", action="store_true", help="recompute cached captures")
    args = ap.parse_args(argv)

    if args.build:
        subprocess.run(["npm", "run", "build"], cwd=ROOT, check=True)
    if not (ROOT / "lstmviz_widget" / "static" / "widget.js").exists():
        sys.exit("no lstmviz_widget/static/widget.js: run `npm run build` (or pass --build)")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from playwright.sync_api import sync_playwright

    from lstmviz_widget import LSTMExplorer
    from tests import lab as ld

    pages = OUT / "page"
    pages.mkdir(parents=True, exist_ok=True)
    units_of: dict[str, int] = {}
    for name in args.fixture:
        cap = load_fixture(name, args.fresh)
        kwargs: dict[str, Any] = {"transport": args.transport}
        if args.layer:
            kwargs["layer"] = args.layer
        if args.quantity:
            kwargs["quantity"] = args.quantity
        if args.timestep is not None:
            kwargs["timestep"] = args.timestep
        w = LSTMExplorer(cap, **kwargs)
        if args.select:
            w.selected_units = [int(u) for u in args.select.split(",")]
        write_state(w, pages / name)
        units_of[name] = cap[w.layer].units

    themes = ["light", "dark"] if args.theme == "both" else [args.theme]
    failed = False
    with serve(ROOT) as base, sync_playwright() as pw:
        browser = ld.launch_browser(pw)
        for name in args.fixture:
            for theme in themes:
                html_path = pages / f"{name}-{theme}.html"
                rel = f"/{pages.relative_to(ROOT).as_posix()}/{name}"
                html_path.write_text(
                    PAGE
                    % {
                        "theme": DARK if theme == "dark" else "",
                        "width": args.width,
                        "json": rel + ".json",
                        "bin": rel + ".bin",
                    }
                )
                page = browser.new_page(viewport={"width": args.width + 40, "height": 900})
                errors: list[str] = []
                page.on(
                    "console",
                    lambda m, e=errors: (
                        e.append(f"console.{m.type}: {m.text}") if m.type == "error" else None
                    ),
                )
                page.on("pageerror", lambda exc, e=errors: e.append(f"pageerror: {exc}"))
                page.on(
                    "dialog", lambda d, e=errors: (e.append(f"dialog: {d.message}"), d.dismiss())
                )
                t0 = time.monotonic()
                page.goto(f"{base}/{html_path.relative_to(ROOT).as_posix()}")
                page.wait_for_function("window.__ready === true", timeout=120_000)
                load_s = time.monotonic() - t0
                first = page.evaluate("window.__firstRender")
                root = page.locator("div.lstmviz, div.lstmviz-error").first
                if page.locator(".lstmviz-error").count():
                    errors.append("error panel: " + page.locator(".lstmviz-error").inner_text())
                if args.keys:
                    page.locator("div.lstmviz").focus()
                    for key in args.keys.split(","):
                        page.keyboard.press(key)
                if args.hover is not None:
                    box = page.locator(".lstmviz-heatmap-canvas").first.bounding_box()
                    units = units_of[name]
                    if box:
                        y = box["y"] + (args.hover + 0.5) * box["height"] / units
                        page.mouse.move(box["x"] + box["width"] / 2, y)
                page.wait_for_timeout(150)
                shot = OUT / f"{name}-{theme}.png"
                root.screenshot(path=str(shot))
                shots = [shot]
                for el in page.locator("[data-view]").all():
                    view = el.get_attribute("data-view")
                    if args.view and view != args.view:
                        continue
                    if not el.is_visible():
                        continue
                    p = OUT / f"{name}-{theme}-{view}.png"
                    el.screenshot(path=str(p))
                    shots.append(p)
                views = page.eval_on_selector_all(
                    "[data-view]",
                    "els => els.map(e => e.dataset.view + (e.hidden ? '(hidden)' : ''))",
                )
                print(
                    f"{name}/{theme}: first render {first:.0f} ms, page ready {load_s:.1f} s;",
                    f"views: {', '.join(views)}",
                )
                for p in shots:
                    print("  ", p.relative_to(ROOT))
                for e in errors:
                    failed = True
                    print("   !!", e)
                page.close()
        browser.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
