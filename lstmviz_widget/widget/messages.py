"""Custom messages of the widget (docs/widget-contract.md): the store view's find-similar and
go-to, the edit view's edit/undo/reset and tile requests. Each handler
takes the explorer and the message content; replies go back with ``explorer.send``."""

from __future__ import annotations

from typing import Any

from . import deferred
from .tiles import MESSAGE_TYPE


def on_store_message(ex: Any, content: Any) -> None:
    """``lstmviz-goto`` (a click on a match) and ``lstmviz-match`` (find similar)."""
    if not isinstance(content, dict):
        return
    kind = content.get("type")
    if kind == "lstmviz-goto":
        ex.goto(int(content["sample"]), int(content["t0"]), int(content["t1"]))
    elif kind == "lstmviz-match":
        reply: dict[str, Any] = {"type": "lstmviz-matches", "id": content.get("id")}
        try:
            found = ex.find_similar(
                int(content["t0"]),
                int(content["t1"]),
                units=[int(u) for u in content.get("units") or []] or None,
                threshold=float(content.get("threshold", 0.3)),
                k=int(content.get("k", 20)),
            )
            ex._matches = [
                {
                    "sample": m.sample,
                    "t0": m.t0,
                    "t1": m.t1,
                    "score": round(m.score, 4),
                    "n_selected": m.n_selected,
                    "n_union": m.n_union,
                    "text": " ".join(m.tokens or [])[:120],
                }
                for m in found
            ]
            reply["rows"] = ex._matches
        except (ValueError, IndexError, KeyError) as err:
            reply["error"] = str(err)
        ex.send(reply)


def on_edit_message(ex: Any, content: Any) -> None:
    """Requests of the widget's edit view: edit / undo / reset; errors go back as text."""
    from .counterfactual import ERROR_TYPE, REQUEST_TYPE

    if not isinstance(content, dict) or content.get("type") != REQUEST_TYPE:
        return
    try:
        action = content.get("action")
        if action == "edit":
            kwargs = {k: content[k] for k in ("value", "token", "mask") if k in content}
            ex.edit(content["t"], sample=content.get("sample", ex.sample), **kwargs)
        elif action == "undo":
            ex.undo()
        elif action == "reset":
            ex.reset()
        else:
            raise ValueError(f"unknown edit action {action!r}")
    except Exception as err:  # shown in the widget as text; the original is untouched
        ex.send({"type": ERROR_TYPE, "message": f"{type(err).__name__}: {err}"})


def on_health_message(ex: Any, content: Any) -> None:
    """A tiled explorer's request for its health findings (computed after the first render)."""
    if not isinstance(content, dict) or content.get("type") != deferred.MESSAGE_TYPE:
        return
    health = getattr(ex, "_health", None)
    if health is None:
        layers = {lc["name"]: lc.get("health") for lc in ex._data["layers"]}
        ex.send({"type": deferred.MESSAGE_TYPE, "id": content.get("id"), "ready": True,
                 "layers": layers, "error": None})  # fmt: skip
        return
    ex.send(health.reply(content))


TOKENS_TYPE = "lstmviz-tokens"
#: Most token labels one request may ask for (a tiled page asks 512 at a time).
MAX_TOKENS = 4096


def token_reply(tokens: list[list[str]] | None, content: dict[str, Any]) -> dict[str, Any]:
    """The labels of steps [start, stop) of one sample, or an error saying what is wrong."""
    out: dict[str, Any] = {"type": TOKENS_TYPE, "id": content.get("id"), "tokens": [],
                           "error": None}  # fmt: skip
    sample, start, stop = (content.get(k) for k in ("sample", "start", "stop"))
    if tokens is None:
        return {**out, "error": "this capture has no token labels"}
    ok = all(isinstance(v, int) and not isinstance(v, bool) for v in (sample, start, stop))
    if not ok or not 0 <= sample < len(tokens):  # type: ignore[operator]
        return {**out, "error": f"bad token request: sample {sample!r}, steps {start!r}–{stop!r}"}
    row = tokens[sample]  # type: ignore[index]
    if not 0 <= start <= stop <= len(row) or stop - start > MAX_TOKENS:  # type: ignore[operator]
        return {**out, "error": f"steps {start}–{stop} are outside 0–{len(row)} or over "
                                f"{MAX_TOKENS} at once"}  # fmt: skip
    return {**out, "sample": sample, "start": start, "stop": stop,
            "tokens": [str(x) for x in row[start:stop]]}  # fmt: skip


def on_tokens_message(ex: Any, content: Any) -> None:
    """A tiled page's request for the token labels of a window (never all 1,000,000 at once)."""
    if not isinstance(content, dict) or content.get("type") != TOKENS_TYPE:
        return
    ex.send(token_reply(ex.capture.tokens, content))


def on_tiles_message(ex: Any, content: Any) -> None:
    """A tile request: one reply with binary buffers (an untiled explorer says so)."""
    if not isinstance(content, dict) or content.get("type") != MESSAGE_TYPE:
        return
    if ex._tiles is None:
        why = "this explorer is not tiled (tiles=False): _data holds every array"
        reply: dict[str, Any] = {
            "type": MESSAGE_TYPE,
            "id": content.get("id"),
            "tiles": [],
            "error": why,
        }
        ex.send(reply, [])
        return
    ex.send(*ex._tiles.answer(content))
