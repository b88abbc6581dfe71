"""`explorer.export()` and `explorer.save_html()` without a browser.

The export round trip is checked in a real ipykernel (started with jupyter_client) whose
"frontend" is this test: it answers the kernel's export request the way js/export/ does,
while the cell that called ``export()`` is still running. The browser side is checked in
tests/browser/test_export_browser.py.
"""

from __future__ import annotations

import dataclasses
import json
import os
import queue
import re
import stat
import time

import keras
import numpy as np
import pytest
from jupyter_client.manager import KernelManager

from lstmviz_widget import LSTMExplorer, capture
from lstmviz_widget._files import write_bytes_atomic
from lstmviz_widget.widget import html as html_mod
from lstmviz_widget.widget.export import NOT_DISPLAYED, REQUEST_TYPE, RESULT_TYPE

EVIL = "<img src=x onerror=alert(1)>"
NAME = "tiny</script><script>alert(2)</script>"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(40))


@pytest.fixture(scope="module")
def cap():
    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [keras.Input((None, 3)), keras.layers.LSTM(4, name="lstm"), keras.layers.Dense(1)],
        name="tiny",
    )
    x = np.random.default_rng(3).normal(size=(10, 3)).astype(np.float32)
    # Keras refuses such a model name; a capture loaded from a file can carry any
    return dataclasses.replace(capture(model, x, tokens=[EVIL] * 10), model_name=NAME)


@pytest.fixture
def explorer(cap):
    return LSTMExplorer(cap)


# ---------------------------------------------------------------------------------------------
# Arguments, and no kernel
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["fig.jpg", "fig.pdf", "fig", "fig.png.txt"])
def test_export_names_the_allowed_suffixes(explorer, tmp_path, name):
    with pytest.raises(ValueError, match=r"must end in one of \.png, \.svg"):
        explorer.export(tmp_path / name)


@pytest.mark.parametrize("scale", [0, -1, 9, float("nan"), "big"])
def test_export_checks_the_scale(explorer, tmp_path, scale):
    with pytest.raises(ValueError, match="scale must be a number in"):
        explorer.export(tmp_path / "f.png", scale=scale)


def test_export_outside_a_kernel_fails_at_once(explorer, tmp_path):
    t0 = time.monotonic()
    with pytest.raises(RuntimeError, match=r"live Jupyter kernel.*save_html"):
        explorer.export(tmp_path / "f.svg", timeout=30)
    assert time.monotonic() - t0 < 1
    assert not (tmp_path / "f.svg").exists()


def test_export_refuses_an_existing_file_before_asking(explorer, tmp_path):
    target = tmp_path / "f.PNG"  # the suffix is case-insensitive
    target.write_bytes(b"keep")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        explorer.export(target)
    assert target.read_bytes() == b"keep"


# ---------------------------------------------------------------------------------------------
# Atomic writes
# ---------------------------------------------------------------------------------------------


def test_write_bytes_atomic_writes_whole_files_and_never_replaces_silently(tmp_path, monkeypatch):
    target = tmp_path / "sub" / "f.bin"
    assert write_bytes_atomic(target, b"one", overwrite=False) == target
    assert target.read_bytes() == b"one"
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask  # not the temp file's 0o600
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_bytes_atomic(target, b"two", overwrite=False)
    assert target.read_bytes() == b"one"
    write_bytes_atomic(target, b"two", overwrite=True)
    assert target.read_bytes() == b"two"

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_bytes_atomic(target, b"three", overwrite=True)
    assert target.read_bytes() == b"two"  # the old file is intact
    assert sorted(p.name for p in target.parent.iterdir()) == ["f.bin"]  # no temp file left


# ---------------------------------------------------------------------------------------------
# save_html
# ---------------------------------------------------------------------------------------------

_NETWORK_REF = re.compile(r"""\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def _tags(page: str) -> list[str]:
    """The HTML tags of ``page`` outside the inlined scripts' text."""
    outside = re.sub(r"(<script\b[^>]*>).*?(</script>)", r"\1\2", page, flags=re.S | re.I)
    return re.findall(r"<[a-zA-Z][^>]*>", outside)


def test_save_html_is_one_offline_file_with_user_text_escaped(explorer, tmp_path):
    path = explorer.save_html(tmp_path / "explorer.html", title="a <b>bold</b> & title")
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert 2_000_000 < len(page) < 10_000_000  # require.js, html-manager, anywidget, data
    # Nothing the page loads points at the network: no tag has a src/href to http(s)://
    # or a protocol-relative //host (URLs in the inlined scripts' code are strings, which the
    # browser test checks are never requested).
    tags = _tags(page)
    assert any("widget-state+json" in t for t in tags)
    assert not [t for t in tags if _NETWORK_REF.search(t)]
    assert "cdn.jsdelivr.net/npm/@jupyter-widgets/html-manager@" not in "".join(tags)
    assert "<script src" not in page
    # require.js, the html manager, anywidget's AMD module, all inline
    assert "requirejs" in page
    assert 'define("@jupyter-widgets/html-manager"' in page
    assert 'window.define("anywidget", name, deps)' in page
    assert "sourceMappingURL=libembed" not in page
    # user text: only escaped (title, model name, tokens)
    assert "<title>a &lt;b&gt;bold&lt;/b&gt; &amp; title</title>" in page
    assert EVIL not in page
    assert NAME not in page
    assert not [t for t in tags if t.lower().startswith("<img")]
    # five script elements (state, view, require.js, anywidget, html manager): nothing inside
    # one ended it early
    assert len([t for t in tags if t.lower().startswith("<script")]) == 5
    # the embedded state is the widget's, with the ESM kept (drop_defaults=False)
    state_text = re.search(
        r'<script type="application/vnd.jupyter.widget-state\+json">\s*(.*?)\s*</script>',
        page,
        re.S,
    ).group(1)
    state = json.loads(state_text)["state"]
    # this widget and what it refers to (its Layout), not every widget in the process
    assert {m["model_name"] for m in state.values()} == {"AnyModel", "LayoutModel"}
    (model,) = [m for m in state.values() if m["model_name"] == "AnyModel"]
    assert model["state"]["_esm"]
    assert model["state"]["_data"]["tokens"][0][0] == EVIL  # escaped text parses back
    assert model["state"]["_data"]["model_name"] == NAME
    assert {b["encoding"] for b in model["buffers"]} == {"base64"}


def test_save_html_default_title_overwrite_and_suffix(explorer, tmp_path):
    path = explorer.save_html(tmp_path / "e.htm")
    title = "LSTM explorer of tiny&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;"
    assert f"<title>{title}</title>" in path.read_text("utf-8")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        explorer.save_html(path)
    explorer.save_html(path, overwrite=True, title="again")
    assert "<title>again</title>" in path.read_text("utf-8")
    with pytest.raises(ValueError, match=r"\.html or \.htm"):
        explorer.save_html(tmp_path / "e.txt")


def test_save_html_says_how_to_get_missing_assets(explorer, tmp_path, monkeypatch):
    monkeypatch.setattr(html_mod, "STATIC", tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="Run `npm run build`"):
        explorer.save_html(tmp_path / "e.html")
    assert not (tmp_path / "e.html").exists()


def test_script_escaping():
    value = {"a": "</script><!-- & \u2028", "n": float("nan")}
    text = html_mod.json_for_script(value)
    assert not set("<>&") & set(text)
    assert json.loads(text) == {"a": value["a"], "n": None}
    js = "var s = '</SCRIPT>'; var c = '<!--';\n//# sourceMappingURL=x.js.map\n"
    out = html_mod.script_text(js)
    assert out == "var s = '\\x3C/SCRIPT>'; var c = '\\x3C!--';\n\n"


# ---------------------------------------------------------------------------------------------
# The round trip in a real kernel, this test acting as the browser
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kernel(cap, tmp_path_factory):
    """An ipykernel (this environment's) with ``e = LSTMExplorer(<cap>)`` defined."""
    work = tmp_path_factory.mktemp("kernel")
    cap.save(work / "cap.npz")
    km = KernelManager(kernel_name="python3", connection_file=str(work / "kernel.json"))
    env = {**os.environ, "IPYTHONDIR": str(work / "ipython"), "PYTHONUNBUFFERED": "1"}
    km.start_kernel(cwd=str(work), env=env)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        _, error = run_cell(
            kc,
            "from lstmviz_widget import LSTMExplorer\n"
            "from lstmviz_widget.data import Capture\n"
            "e = LSTMExplorer(Capture.load('cap.npz'))",
        )
        assert error is None, error
        yield kc, work
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def run_cell(kc, code, answer=None, timeout=60.0):
    """Run ``code``; while it runs, answer each export request with ``answer(request)`` — a
    list of ``(data, buffers)`` comm messages to send back. Returns (stdout, error or None)."""
    msg_id = kc.execute(code)
    out: list[str] = []
    error = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=1)
        except queue.Empty:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "comm_msg" and answer is not None:
            data = content["data"]
            if data.get("method") == "custom" and data["content"].get("type") == REQUEST_TYPE:
                for reply, buffers in answer(data["content"]):
                    kc.session.send(
                        kc.shell_channel.socket,
                        "comm_msg",
                        {"comm_id": content["comm_id"], "data": reply},
                        buffers=buffers,
                    )
        elif kind == "stream":
            out.append(content["text"])
        elif kind == "error":
            error = f"{content['ename']}: {content['evalue']}"
        elif (
            kind == "status"
            and content["execution_state"] == "idle"
            and msg["parent_header"].get("msg_id") == msg_id
        ):
            return "".join(out), error
    raise AssertionError(f"cell did not finish in {timeout} s: {code}")


def result(request, **content):
    return {"method": "custom", "content": {"type": RESULT_TYPE, "id": request["id"], **content}}


def test_export_waits_for_the_browser_inside_the_running_cell(kernel):
    kc, work = kernel
    requests = []

    def answer(req):
        requests.append(req)
        # a trait change from the page arrives meanwhile; then two views answer: first wins
        update = {"method": "update", "state": {"timestep": 5}, "buffer_paths": []}
        ok = {"ok": True, "mime": "image/png", "width": 10, "height": 20}
        return [
            (update, []),
            (result(req, **ok), [PNG + b"first"]),
            (result(req, **ok), [PNG + b"second"]),
        ]

    code = (
        "import time\nt0 = time.monotonic()\n"
        "p = e.export('fig.png', view='heatmap', scale=1.5)\n"
        "print(p, round(time.monotonic() - t0, 2))"
    )
    out, error = run_cell(kc, code, answer)
    assert error is None, error
    assert out.startswith("fig.png ")
    assert float(out.split()[1]) < 5  # answered inside the cell, not after a timeout
    (req,) = requests
    assert {k: req[k] for k in ("format", "view", "scale")} == {
        "format": "png",
        "view": "heatmap",
        "scale": 1.5,
    }
    assert (work / "fig.png").read_bytes() == PNG + b"first"
    # the trait update was not lost: it ran (on the main shell) once the cell had finished
    out, error = run_cell(kc, "print(e.timestep)")
    assert (out.strip(), error) == ("5", None)


def test_export_reports_what_the_browser_says(kernel):
    kc, work = kernel

    def unknown_view(req):
        error = 'no view named "pca"; available views: "heatmap", "gates"'
        return [(result(req, ok=False, error=error, code="unknown-view"), [])]

    _, error = run_cell(kc, "e.export('v.svg', view='pca')", unknown_view)
    assert error == 'ValueError: no view named "pca"; available views: "heatmap", "gates"'

    def broken(req):
        return [(result(req, ok=False, error="canvas exploded", code="error"), [])]

    _, error = run_cell(kc, "e.export('v.svg')", broken)
    assert error == "RuntimeError: the browser could not draw the explorer: canvas exploded"

    def not_svg(req):
        return [(result(req, ok=True, mime="image/svg+xml"), [b"GIF89a"])]

    _, error = run_cell(kc, "e.export('v.svg')", not_svg)
    assert error == "RuntimeError: the browser's reply is not a SVG file"
    assert not (work / "v.svg").exists()


def test_export_times_out_when_the_explorer_is_not_displayed(kernel):
    kc, work = kernel
    code = (
        "import time\nt0 = time.monotonic()\n"
        "try:\n    e.export('none.png', timeout=0.5)\n"
        "except TimeoutError as err:\n    print(round(time.monotonic() - t0, 2), err)"
    )
    out, error = run_cell(kc, code)  # nobody answers
    assert error is None, error
    seconds, message = out.split(" ", 1)
    assert 0.4 < float(seconds) < 3
    assert message.strip() == f"no answer within 0.5 s: {NOT_DISPLAYED}"
    assert not (work / "none.png").exists()
    # a late answer to the timed-out request is ignored, and the next export still works
    out, error = run_cell(
        kc,
        "print(e.export('late.png'))",
        lambda req: [(result(req, ok=True, mime="image/png"), [PNG])],
    )
    assert (out.strip(), error) == ("late.png", None)


def test_a_view_that_missed_the_first_request_answers_the_resent_one(kernel):
    """Run All: export() can ask before the widget has rendered; the request is resent (same
    id) until a view answers, so a late view still gets it."""
    kc, work = kernel
    seen = []

    def answer(req):
        seen.append(req["id"])
        if len(seen) == 1:
            return []  # not rendered yet: this request is lost
        return [(result(req, ok=True, mime="image/png"), [PNG + b"late view"])]

    code = (
        "import time\nt0 = time.monotonic()\n"
        "print(e.export('resent.png', timeout=5), round(time.monotonic() - t0, 2))"
    )
    out, error = run_cell(kc, code, answer)
    assert error is None, error
    assert out.split()[0] == "resent.png"
    assert 0.8 < float(out.split()[1]) < 4  # answered after one resend, well before the timeout
    assert len(seen) == 2
    assert seen[0] == seen[1]  # the same request id: the frontend answers each id once
    assert (work / "resent.png").read_bytes() == PNG + b"late view"
