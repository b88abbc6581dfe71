"""The array codec of the `_data` payload: one numpy array ↔ ``{dtype, shape, data}``.

Mirrors the array half of js/codecs.ts (``decodeArray``), which reads what this writes:
``data`` is raw little-endian C-order bytes (a memoryview, so ipywidgets sends it as a binary
buffer, not JSON). The payload builder (:mod:`.payload`) uses nothing else to put arrays on
the wire. Contract: docs/widget-contract.md.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Transports for the big per-step arrays (states, gates, attention scores).
TRANSPORTS = ("float32", "float16")


def encode_array(
    arr: np.ndarray, dtype: str = "float32", *, scaled: bool = False
) -> dict[str, Any]:
    """One array as ``{dtype, shape, data}``; ``data`` is raw little-endian C-order bytes.

    ``scaled=True`` with float16 sends ``arr / s`` and ``"scale": s`` (s = max |finite value|),
    so values far outside float16's range (gradients of 1e-9) keep 3 significant digits.
    """
    out: dict[str, Any] = {}
    if scaled and dtype == "float16":
        a64 = np.asarray(arr, np.float64)
        finite = np.abs(a64[np.isfinite(a64)])
        s = float(finite.max()) if finite.size else 0.0
        if s > 0:
            arr = a64 / s
            out["scale"] = s
    a = np.ascontiguousarray(arr, dtype=np.dtype(dtype).newbyteorder("<"))
    return {"dtype": dtype, "shape": list(a.shape), "data": a.data.cast("B"), **out}
