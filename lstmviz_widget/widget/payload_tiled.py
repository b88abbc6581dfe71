"""The tiled `_data` (issue 13): the untiled payload's structure with every array drawn over
time replaced by ``{"tiled": true, "key", "shape"}``; its values travel as tiles
(:mod:`.tiles`), the first few in ``initial_tiles``, the rest on request. Weights, weight
gradients and health are built by the untiled helpers (:mod:`.payload`).
Contract: docs/widget-contract.md ("Tiled `_data`"), docs/widget-contract.md.
"""

from __future__ import annotations

from typing import Any

from ..data import Capture, LayerCapture
from .payload import _weights, layer_meta
from .tiles import TILE_STEPS, TileSource, initial_level

#: "auto" tiles a capture longer than this many steps ...
AUTO_STEPS = 20_000
#: ... or whose per-step arrays (B·T·U·4 bytes over h, c and gates of every layer) exceed this.
AUTO_BYTES = 64 * 2**20
#: Budget of the tiles save_html embeds (base64 bytes, as the page holds them).
OFFLINE_BUDGET = 50 * 10**6


def drawn_bytes(cap: Capture) -> int:
    """Bytes of the untiled payload's per-step arrays in float32: B·T·U·4 per h, c, gate."""
    b, t = cap.n_samples, cap.n_steps
    n = sum(lc.units * (1 + (lc.c is not None) + len(lc.gates)) for lc in cap)
    return 4 * b * t * n


def check_tiles(tiles: Any) -> None:
    """One ValueError unless ``tiles`` is "auto", True or False."""
    if not (tiles is True or tiles is False or (isinstance(tiles, str) and tiles == "auto")):
        raise ValueError(f'tiles must be "auto", True or False, got {tiles!r}')


def resolve(tiles: Any, cap: Capture) -> bool:
    """Whether an explorer of ``cap`` is tiled, for ``tiles`` ∈ {"auto", True, False}."""
    check_tiles(tiles)
    if tiles == "auto":
        return cap.n_steps > AUTO_STEPS or drawn_bytes(cap) > AUTO_BYTES
    return bool(tiles)


def _ref(source: TileSource, key: str) -> dict[str, Any] | None:
    if key not in source:
        return None
    return {"tiled": True, "key": key, "shape": source.shape(key)}


def _layer(lc: LayerCapture, source: TileSource, dtype: str) -> dict[str, Any]:
    qs = ["h"] + (["c"] if lc.c is not None else []) + [f"gate:{g}" for g in lc.gates]
    norms = {q: _ref(source, f"{lc.name}|norm:{q}") for q in qs}
    norms = {q: r for q, r in norms.items() if r is not None}
    return {
        **layer_meta(lc),
        "arrays": {q: _ref(source, f"{lc.name}|{q}") for q in qs},
        "grad_norms": norms or None,
        "series": {
            k.split("|series:", 1)[1]: {**(_ref(source, k) or {}), "labels": source.labels(k)}
            for k in source.keys
            if k.startswith(f"{lc.name}|series:")
        }
        or None,
        "pca": None,  # the untiled form; tiled: the trajectory's tiles
        "trajectory": {
            **(_ref(source, f"{lc.name}|pca") or {}),
            "labels": source.labels(f"{lc.name}|pca"),
        },
        "weights": _weights(lc, False, dtype),
        "weight_grads": _weights(lc, True, dtype),
        # health_report reads every array (2 s at 1,000,000 × 256): not on the way to the
        # first render; computed after it (widget/deferred.py), asked for by the browser
        "health": None,
    }


def tiled_payload(
    cap: Capture,
    source: TileSource,
    epochs: list[int] | None = None,
    *,
    transport: str = "float32",
    layer: str | None = None,
    quantity: str = "h",
    sample: int = 0,
    timestep: int = 0,
) -> dict[str, Any]:
    """The tiled `_data` of ``cap``; ``source`` is its :class:`TileSource`. ``layer``,
    ``quantity``, ``sample`` and ``timestep`` (what is shown first) choose the initial tiles.
    ``transport`` applies to the weights only (tiles have their own encoding)."""
    t = cap.n_steps
    first = next(iter(cap))
    inp = None
    if "|input" in source:
        inp = {"label": f"input to {first.name}", "features": int(first.inputs.shape[-1]),
               "values": _ref(source, "|input")}  # fmt: skip
    p = cap.predictions
    preds = None
    if p is not None and p.confidence is not None:
        preds = {"mode": p.mode, "task": p.task, "reason": p.reason,
                 "source_layer": p.source_layer, "confidence": _ref(source, "|confidence"),
                 "predicted": _ref(source, "|predicted"),
                 "mispredicted": _ref(source, "|mispredicted")}  # fmt: skip
    left_out: list[str] = []
    if cap.attention:
        left_out.insert(0, "attention")
    shown = layer or first.name
    return {
        "format": 1,
        "model_name": cap.model_name,
        "n_samples": cap.n_samples,
        "n_steps": t,
        "lengths": [int(n) for n in cap.lengths],
        "tokens": None,  # a label per step would be megabytes of JSON: asked for by window
        "tokens_on_request": cap.tokens is not None,
        "layers": [_layer(lc, source, transport) for lc in cap],
        "epochs": epochs,
        "input": inp,
        "saliency": _ref(source, "|saliency"),
        "predictions": preds,
        "attention": [],
        "loss": None if cap.loss is None else float(cap.loss),
        "tiling": {
            "tile_steps": TILE_STEPS,
            "max_level": source.max_level,
            "initial_level": initial_level(t),
            "offline": False,
            "finest_level": 0,
            "note": "",
        },
        "tiled_out": left_out,
        "initial_tiles": source.initial_tiles(shown, quantity, sample, timestep),
    }


def offline_payload(
    data: dict[str, Any],
    source: TileSource,
    budget: int = OFFLINE_BUDGET,
    *,
    health: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A tiled `_data` for save_html: every tile of every key and sample from the coarsest
    level down to the finest L whose levels L … K fit ``budget`` (base64 bytes), and each
    layer's ``health`` entry from ``health`` (layer name → entry; the page has no kernel to
    ask); a note says
    how many steps a column of level L holds when L > 0."""
    finest = source.offline_levels(budget)
    note = ""
    if finest > 0:
        note = f"offline copy: the finest level holds {1 << finest} steps per column"
    tiling = {**data["tiling"], "offline": True, "finest_level": finest, "note": note,
              "initial_level": max(data["tiling"]["initial_level"], finest)}  # fmt: skip
    layers = [{**lc, "health": (health or {}).get(lc["name"])} for lc in data["layers"]]
    return {**data, "layers": layers, "tiling": tiling,
            "initial_tiles": source.offline_tiles(finest)}  # fmt: skip
