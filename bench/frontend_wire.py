"""Frontend benchmark, part 1: the explorer's state as ipywidgets sends it (bytes on the wire)."""

from __future__ import annotations

import inspect
import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

from ipywidgets.widgets.widget import _remove_buffers

from lstmviz_widget import LSTMExplorer


# ---- bytes on the wire -----------------------------------------------------------------------
def _arrays(obj: Any):
    """Every ``{dtype, shape, data}`` in the payload (data still a buffer)."""
    if isinstance(obj, dict):
        if "shape" in obj and isinstance(obj.get("data"), (bytes, bytearray, memoryview)):
            yield obj
            return
        for v in obj.values():
            yield from _arrays(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _arrays(v)


def _json_bytes(obj: Any) -> bytes:
    """As jupyter_client packs a message (``json.dumps``, ``ensure_ascii=False``)."""
    try:
        text = json.dumps(obj, ensure_ascii=False, allow_nan=False)
    except ValueError:  # NaN/inf: jupyter_client falls back to allowing them
        text = json.dumps(obj, ensure_ascii=False)
    return text.encode("utf8")


def wire(widget: LSTMExplorer) -> dict[str, Any]:
    """The explorer's state as ipywidgets sends it, split into JSON, buffers and code."""
    state = widget.get_state()
    code = {k: len(str(state.pop(k)).encode()) for k in ("_esm", "_css") if k in state}
    arrays = list(_arrays(state.get("_data", {})))
    raw32 = sum(math.prod(a["shape"]) * 4 for a in arrays)
    by_dtype = Counter()
    for a in arrays:
        by_dtype[a["dtype"]] += math.prod(a["shape"]) * 4
    stripped, paths, buffers = _remove_buffers(state)
    js = _json_bytes(stripped)
    buf = sum(memoryview(b).nbytes for b in buffers)
    return {
        "json": len(js),
        "buffers": buf,
        "raw32": raw32,
        "ratio": (len(js) + buf) / raw32,
        "code": code,
        "n_arrays": len(arrays),
        "raw32_by_dtype": dict(by_dtype),
        "stripped": stripped,
        "json_text": js,
        "paths": paths,
        "buffer_list": buffers,
    }


def write_state(w: dict[str, Any], folder: Path) -> int:
    """state.json (the JSON part, paths, buffer file names) and one file per buffer."""
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i, b in enumerate(w["buffer_list"]):
        name = f"buf{i}.bin"
        with open(folder / name, "wb") as fh:
            fh.write(memoryview(b).cast("B"))
        names.append(name)
    # the same JSON text that was measured, wrapped with the paths of the buffers
    meta = b'{"state": ' + w["json_text"] + b', "paths": ' + json.dumps(w["paths"]).encode()
    meta += b', "buffers": ' + json.dumps(names).encode() + b"}"
    (folder / "state.json").write_bytes(meta)
    return sum(memoryview(b).nbytes for b in w["buffer_list"])


def has_transport() -> bool:
    return "transport" in inspect.signature(LSTMExplorer.__init__).parameters
