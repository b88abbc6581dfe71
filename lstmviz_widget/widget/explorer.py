"""`LSTMExplorer`: linked, scrubbable views of a Capture. Mirrored by js/model.ts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anywidget
import traitlets as t

from ..data import Capture, LayerCapture
from . import messages, payload, payload_tiled
from .codec import TRANSPORTS, encode_array
from .counterfactual import MODES, Counterfactual, Edit
from .deferred import DeferredHealth
from .tiles import TileSource

#: Why a tiled explorer does not edit.
TILED_REASON = (
    "editing is off for a tiled explorer (a long sequence: tiles on demand); "
    "pass tiles=False to edit, or edit a shorter slice of the sequence"
)

_STATIC = Path(__file__).resolve().parent.parent / "static"


class LSTMExplorer(anywidget.AnyWidget):
    """Scrub through what a recurrent model does at every timestep.

    Parameters
    ----------
    model_or_capture : keras.Model or Capture
        A built Keras 3 model with at least one LSTM/GRU/SimpleRNN layer, or a capture made
        earlier (``capture(...)`` or ``Capture.load(...)``); a capture needs no Keras.
    seq : array-like, optional
        Input for ``model``: ``(T, D)`` for one sequence or ``(B, T, D)`` for a batch (token ids
        ``(T,)``/``(B, T)`` for an ``Embedding`` front end). Required with a model, refused
        with a capture.
    mask, tokens
        Passed to :func:`lstmviz_widget.capture` with a model.
    timestep, sample, layer, quantity
        Initial cursor, sample, layer and what the heatmap shows (default: 0, 0, the first
        layer, ``"h"``).
    transport : {"float32", "float16"}
        dtype of the states, gates, attention scores and weights sent to the browser.
        ``"float16"`` halves the bytes for long sequences (about 3 significant digits; states
        beyond ±65504 show as ±inf and are marked; weights and weight gradients travel scaled
        by their max, so tiny gradients survive). Default ``"float32"``.
    vocab : list of str or dict of int to str, optional
        Token labels by id, for :meth:`edit` ``(t, token="word")`` and the widget's type-ahead
        (default: ``tokens`` when that is a vocabulary).
    tiles : {"auto", True, False}
        Send what is drawn over time as tiles of a min/max pyramid, on request, instead of
        whole arrays (a first payload of a few MB whatever the length). ``"auto"`` (default)
        tiles a capture of more than 20,000 steps or whose states and gates exceed 64 MiB
        in float32. A tiled explorer does not edit (:meth:`edit`) and leaves out attention
        and the PCA trajectory.
    """

    _esm = _STATIC / "widget.js"
    _css = _STATIC / "widget.css"

    timestep = t.Int(0).tag(sync=True)
    """int: Cursor position (0-based timestep). Synced both ways. Default 0."""

    sample = t.Int(0).tag(sync=True)
    """int: Which sequence of the batch the views show. Synced both ways. Default 0."""

    layer = t.Unicode("").tag(sync=True)
    """str: Name of the layer shown (one of ``capture.layer_names``). Default: the first."""

    quantity = t.Unicode("h").tag(sync=True)
    """str: What the main heatmap shows: ``"h"``, ``"c"`` or ``"gate:<name>"``. Default ``"h"``."""

    selected_units = t.List(t.Int(), default_value=[]).tag(sync=True)
    """list of int: Highlighted units, shared by every view. Default empty."""

    epoch = t.Int(0).tag(sync=True)
    """int: Index of the training snapshot shown (see :meth:`from_snapshots`); 0 otherwise."""

    store_sample = t.Int(0).tag(sync=True)
    """int: With a store (``LSTMExplorer(Capture.open(...))``): the sample of the store shown
    (only it is read and sent; ``sample`` is then 0). Synced both ways. Default 0."""

    mode = t.Unicode("original").tag(sync=True)
    """str: What the views draw after :meth:`edit`: ``"original"``, ``"edited"`` or
    ``"difference"`` (edited − original, on a diverging scale). Default ``"original"``."""

    _data = t.Dict().tag(sync=True)

    def __init__(
        self,
        model_or_capture: Any,
        seq: Any = None,
        *,
        timestep: int = 0,
        sample: int = 0,
        layer: str | None = None,
        quantity: str = "h",
        mask: Any = None,
        tokens: Any = None,
        transport: str = "float32",
        vocab: Any = None,
        tiles: Any = "auto",
        _snapshots: tuple[list[tuple[int, Capture]], int] | None = None,
    ) -> None:
        # _snapshots: (snapshots, index shown) from from_snapshots, so that the payload is
        # built once, for the right epoch, with the epochs list.
        payload_tiled.check_tiles(tiles)  # a bad value fails before any capture runs
        model = None
        if isinstance(model_or_capture, Capture):
            if seq is not None or mask is not None or tokens is not None:
                raise TypeError(
                    "LSTMExplorer(capture) takes no sequence or capture options: the capture "
                    "already holds them. Pass a model to capture a new sequence."
                )
            cap = model_or_capture
        else:
            if seq is None:
                raise TypeError(
                    "LSTMExplorer(model, seq): pass the input sequence to probe, e.g. an array "
                    "of shape (T, features) or (batch, T, features)."
                )
            from ..probe.capture import capture

            model = model_or_capture
            cap = capture(model_or_capture, seq, mask=mask, tokens=tokens)
        if transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {TRANSPORTS}, got {transport!r}")
        self.store: Any = None
        """StoredCapture or None: the store behind the explorer (``Capture.open``)."""
        shown = 0
        if hasattr(cap, "select") and getattr(cap, "meta", None) is not None:
            self.store = cap
            if not 0 <= int(sample) < cap.n_samples:
                raise ValueError(f"sample must be in [0, {cap.n_samples - 1}], got {sample}")
            shown, sample = int(sample), 0
            cap = cap.select(shown)
        self._shown = shown
        self._tiled = payload_tiled.resolve(tiles, cap)
        self._tiles: TileSource | None = None
        self._health: DeferredHealth | None = None
        self._matches: list[dict[str, Any]] = []
        self.capture: Capture = cap
        """Capture: the arrays the views draw (read-only by convention)."""
        self._transport = transport
        snapshots, index = ([(0, cap)], 0) if _snapshots is None else _snapshots
        self.snapshots: list[tuple[int, Capture]] = snapshots
        """list of (epoch, Capture): what the ``epoch`` trait scrubs across."""
        self._payload_epoch = index  # the snapshot `_data` was built for
        epochs = None if _snapshots is None else [int(e) for e, _ in snapshots]
        first = cap.layer_names[0]
        data = self._payload(cap, None, epochs, (layer or first, quantity, sample, timestep))
        # a store-backed explorer has no model to re-run: Counterfactual says it is not editable
        self._cf = Counterfactual(cap, model, seq, mask, tokens, vocab)
        super().__init__(_data=data, layer=layer or first, epoch=index, store_sample=shown)
        if self.store is not None:
            self.on_msg(self._on_store_msg)
        if self._tiled and self._cf.editable:
            self._cf.seq, self._cf.reason = None, TILED_REASON
            self._data = {**self._data, "counterfactual": self._cf.info("original", sample)}
        if self._cf.editable:
            self._cf.seed(self._data)
            self._data = {**self._data, "counterfactual": self._cf.info("original", sample)}
        self.on_msg(self._on_edit_message)
        self.on_msg(self._on_tiles_message)
        self.on_msg(lambda _w, content, _b: messages.on_health_message(self, content))
        self.on_msg(lambda _w, content, _b: messages.on_tokens_message(self, content))
        self.sample = sample
        self.timestep = timestep
        self.quantity = quantity

    # -- a store: one sample at a time, find similar ----------------------------------------
    def _payload(
        self,
        cap: Capture,
        jump: tuple[int, int] | None,
        epochs: list[int] | None = None,
        view: tuple[str, str, int, int] | None = None,
    ) -> dict[str, Any]:
        """`_data` of ``cap``; tiled: ``view`` = (layer, quantity, sample, timestep) shown
        first chooses the initial tiles (default: the traits)."""
        if self._tiled:
            self._tiles = TileSource(cap)
            self._health = DeferredHealth(cap)
            lay, q, b, ts = view or (self.layer, self.quantity, self.sample, self.timestep)
            data = payload_tiled.tiled_payload(
                cap, self._tiles, epochs, transport=self._transport,
                layer=lay, quantity=q, sample=b, timestep=ts,
            )  # fmt: skip
        else:
            self._health = None
            data = payload.capture_payload(cap, epochs, transport=self._transport)
        if self.store is not None:
            data["store"] = {
                "n_samples": self.store.n_samples,
                "sample": self._shown,
                "jump": None if jump is None else [int(jump[0]), int(jump[1])],
                "matches": self._matches,
                "threshold": getattr(self, "last_query", {}).get("threshold", 0.3),
                "path": str(self.store.path) if self.store.path is not None else "",
            }
        return data

    def _show(self, sample: int, jump: tuple[int, int] | None = None) -> None:
        cap = self.store.select(sample)
        self._shown = sample
        self.capture = cap
        with self.hold_sync():
            self.store_sample = sample
            self._data = self._payload(cap, jump)
            t = jump[0] if jump is not None else self.timestep
            self.timestep = min(max(int(t), 0), cap.n_steps - 1)

    @t.validate("store_sample")
    def _check_store_sample(self, proposal: t.Bunch) -> int:
        store = getattr(self, "store", None)
        return self._in_range("store_sample", proposal["value"], store.n_samples if store else 1)

    @t.observe("store_sample")
    def _on_store_sample(self, change: dict[str, Any]) -> None:
        if getattr(self, "store", None) is not None and change["new"] != self._shown:
            self._show(int(change["new"]))

    def find_similar(
        self,
        t0: int,
        t1: int,
        *,
        units: list[int] | None = None,
        threshold: float = 0.3,
        k: int = 20,
    ) -> list[Any]:
        """Windows across the store like steps ``t0 … t1 − 1`` of the sample shown: the units
        of the current layer and quantity on there (or ``units``) matched over every sample
        (:func:`lstmviz_widget.analysis.match`, ranked as LSTMVis ranks), best first."""
        from ..analysis.corpus import match

        source = self.store if self.store is not None else self.capture
        sample = self._shown if self.store is not None else self.sample
        self.last_query = {"sample": sample, "t0": int(t0), "t1": int(t1), "units": units,
                           "threshold": float(threshold), "layer": self.layer}  # fmt: skip
        return match(
            source, units or None, threshold=threshold, sample=sample, t0=t0, t1=t1,
            layer=self.layer, quantity=self.quantity, k=k,
        )  # fmt: skip

    def goto(self, sample: int, t0: int, t1: int) -> None:
        """Show steps ``t0 … t1 − 1`` of ``sample`` (of the store, with one): the sample is
        loaded, the cursor moves to ``t0``, the view zooms to and brushes the range."""
        if self.store is None:
            self.sample = sample
            self.timestep = t0
            self.send({"type": "lstmviz-jump", "t0": int(t0), "t1": int(t1)})
        elif int(sample) != self._shown:
            self._show(int(sample), (int(t0), int(t1)))
        else:
            self.timestep = int(t0)
            self.send({"type": "lstmviz-jump", "t0": int(t0), "t1": int(t1)})

    def _on_store_msg(self, _widget: Any, content: Any, buffers: Any) -> None:
        """The store view's requests: find similar (a brush) and go to a match."""
        messages.on_store_message(self, content)

    @classmethod
    def from_snapshots(
        cls, snapshots: list[tuple[int, Capture]], *, epoch: int = -1, **kwargs: Any
    ) -> LSTMExplorer:
        """An explorer that scrubs across training epochs as well as timesteps.

        Parameters
        ----------
        snapshots : list of (int, Capture)
            Captures of the same sequences taken during training, e.g.
            ``LSTMMonitor.snapshots``; epochs as Keras counts them (from 0).
        epoch : int
            Index of the snapshot shown first (default: the last).
        **kwargs
            ``timestep``, ``sample``, ``layer``, ``quantity``, ``transport`` as for the
            constructor.
        """
        if not snapshots:
            raise ValueError("no snapshots to explore: train with LSTMMonitor for an epoch first")
        caps = [cap for _, cap in snapshots]
        names = caps[0].layer_names
        if any(c.layer_names != names or c.n_steps != caps[0].n_steps for c in caps):
            raise ValueError("snapshots must capture the same layers and sequences")
        index = range(len(caps))[epoch]
        return cls(caps[index], _snapshots=(list(snapshots), index), **kwargs)

    @t.validate("epoch")
    def _check_epoch(self, proposal: t.Bunch) -> int:
        n = len(self.snapshots) if hasattr(self, "snapshots") else 1
        return self._in_range("epoch", proposal["value"], n)

    @t.observe("epoch")
    def _on_epoch(self, change: dict[str, Any]) -> None:
        index = int(change["new"])
        if index == self._payload_epoch:
            return
        self.capture = self.snapshots[index][1]
        self._payload_epoch = index
        self._data = self._payload(self.capture, None, [int(e) for e, _ in self.snapshots])

    def _in_range(self, name: str, value: int, n: int) -> int:
        value = int(value)
        if hasattr(self, "capture") and not 0 <= value < n:
            raise t.TraitError(f"{name} must be in [0, {n - 1}], got {value}")
        return value

    @t.validate("timestep")
    def _check_timestep(self, proposal: t.Bunch) -> int:
        n = self.capture.n_steps if hasattr(self, "capture") else 0
        return self._in_range("timestep", proposal["value"], n)

    @t.validate("sample")
    def _check_sample(self, proposal: t.Bunch) -> int:
        n = self.capture.n_samples if hasattr(self, "capture") else 0
        return self._in_range("sample", proposal["value"], n)

    @t.validate("layer")
    def _check_layer(self, proposal: t.Bunch) -> str:
        value = str(proposal["value"])
        if hasattr(self, "capture") and value not in self.capture.layers:
            raise t.TraitError(f"layer must be one of {self.capture.layer_names}, got {value!r}")
        return value

    @t.validate("quantity")
    def _check_quantity(self, proposal: t.Bunch) -> str:
        value = str(proposal["value"])
        if hasattr(self, "capture") and self.layer:
            lc = self.capture[self.layer]
            allowed = _quantities(lc)
            if value not in allowed:
                raise t.TraitError(f"quantity for layer {lc.name!r} must be one of {allowed}")
        return value

    @t.validate("selected_units")
    def _check_units(self, proposal: t.Bunch) -> list[int]:
        units = [int(u) for u in proposal["value"]]
        if hasattr(self, "capture") and self.layer:
            n = self.capture[self.layer].units
            bad = [u for u in units if not 0 <= u < n]
            if bad:
                raise t.TraitError(f"selected_units {bad} out of range [0, {n - 1}]")
        return units

    @t.observe("layer")
    def _on_layer(self, change: dict[str, Any]) -> None:
        lc = self.capture[change["new"]]
        if self.quantity not in _quantities(lc):
            self.quantity = "h"
        self.selected_units = [u for u in self.selected_units if u < lc.units]

    # -- counterfactual edits (lstmviz_widget/widget/counterfactual.py) ----------------
    @property
    def baseline(self) -> Capture:
        """Capture: the original run, before any :meth:`edit`."""
        return self._cf.baseline

    @property
    def edits(self) -> list[Edit]:
        """list of Edit: the edits applied, in order (:meth:`undo` drops the last)."""
        return list(self._cf.edits)

    @property
    def edited(self) -> Capture | None:
        """Capture or None: the run on the edited sequence (None without edits)."""
        return self._cf.edited

    def edit(
        self,
        t: int,
        value: Any = None,
        *,
        token: Any = None,
        mask: bool = False,
        sample: int | None = None,
    ) -> Capture:
        """Change step ``t`` of the input, run the model again and show the result.

        Exactly one of ``value`` (numeric inputs: a number for every feature, or one number
        per feature), ``token`` (token inputs: a label from the vocabulary or an id) or
        ``mask=True`` (the step is skipped and its state carried over). Edits accumulate;
        the views switch from ``"original"`` to ``"edited"`` (``mode``).

        Returns the edited Capture. Bad input raises one ``TypeError``/``ValueError`` and
        leaves everything as it was; an explorer built from a Capture raises ``RuntimeError``
        (there is no model to run).
        """
        edit = self._cf.make_edit(
            t, value, token=token, mask=mask, sample=self.sample if sample is None else sample
        )
        cap = self._cf.push(edit)
        self._show_edits("edited" if self.mode == "original" else self.mode)
        return cap

    def compare(self, other_seq: Any) -> Capture:
        """Run a second sequence of the same shape and show it against the original.

        It counts as one edit (undo returns to the edits before it).
        """
        cap = self._cf.push(self._cf.make_sequence(other_seq))
        self._show_edits("edited" if self.mode == "original" else self.mode)
        return cap

    def undo(self) -> Edit | None:
        """Drop the last edit (returns it; None when there was none)."""
        last = self._cf.undo()
        self._show_edits(self.mode if self._cf.edits else "original")
        return last

    def reset(self) -> None:
        """Drop every edit and show the original."""
        self._cf.reset()
        self._show_edits("original")

    def _show_edits(self, mode: str) -> None:
        if mode == self.mode:
            self._on_mode({"new": mode})
        else:
            self.mode = mode  # the observer redraws

    @t.validate("mode")
    def _check_mode(self, proposal: t.Bunch) -> str:
        value = str(proposal["value"])
        if value not in MODES:
            raise t.TraitError(f"mode must be one of {list(MODES)}, got {value!r}")
        if value != "original" and hasattr(self, "_cf") and self._cf.edited is None:
            raise t.TraitError(f"mode {value!r} needs an edit first: explorer.edit(t, ...)")
        return value

    @t.observe("mode")
    def _on_mode(self, change: dict[str, Any]) -> None:
        mode = change["new"]
        data = self._cf.payload(
            mode,
            lambda cap: payload.capture_payload(cap, transport=self._transport),
            encode_array,
            self._transport,
        )
        self.capture = self._cf.shown(mode)
        info = self._cf.info(mode, self.sample, encode_array)
        self._data = {**data, "counterfactual": info}

    def _on_edit_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        """Requests of the widget's edit view: edit / undo / reset; errors go back as text."""
        messages.on_edit_message(self, content)

    @property
    def tiled(self) -> bool:
        """bool: Whether what is drawn over time travels as tiles on request (``tiles=``)."""
        return self._tiled

    def _on_tiles_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        """A tile request of the widget (docs/widget-contract.md): one reply with binary buffers."""
        messages.on_tiles_message(self, content)

    def _offline_data(self, budget: int = payload_tiled.OFFLINE_BUDGET) -> dict[str, Any] | None:
        """The `_data` save_html embeds instead of the live one (tiled: the pyramid down to
        the finest level that fits ``budget``); None when untiled."""
        if self._tiles is None:
            return None
        health = self._health.result(timeout=None) if self._health is not None else None
        return payload_tiled.offline_payload(self._data, self._tiles, budget, health=health)

    def export(
        self,
        path: str | Path,
        *,
        view: str | None = None,
        scale: float = 2,
        timeout: float = 10.0,
        overwrite: bool = False,
    ) -> Path:
        """Save the explorer as shown in the notebook to a PNG or SVG file.

        The browser draws it (canvases, axes, text, the theme's colours), so the explorer must
        be displayed in a live notebook first; the cell waits for the drawing.

        Parameters
        ----------
        path : path-like
            Ends in ``.png`` or ``.svg`` (the format); anything else raises ``ValueError``.
        view : str, optional
            One view (``"heatmap"``, ``"gates"``, ...) instead of the whole explorer. An
            unknown name raises ``ValueError`` listing the views shown.
        scale : float
            PNG pixels per CSS pixel (default 2, in (0, 8]); SVG is vector.
        timeout : float
            Seconds to wait for the browser; ``TimeoutError`` when nothing displayed answers.
        overwrite : bool
            Replace an existing file (otherwise ``FileExistsError``). Files are written whole
            or not at all.

        Returns
        -------
        Path
            The file written. Outside a Jupyter kernel: ``RuntimeError`` (use :meth:`save_html`).
        """
        from .export import export_figure

        return export_figure(
            self, path, view=view, scale=scale, timeout=timeout, overwrite=overwrite
        )

    def figure(
        self, view: str = "dashboard", *, t0: int | None = None, t1: int | None = None
    ) -> Any:
        """What the explorer shows now, drawn with matplotlib (no browser needed).

        Uses the current capture (epoch), ``layer``, ``quantity``, ``sample``, cursor
        ``timestep`` and ``selected_units``. The zoom window lives only in the browser and is
        never synced to Python: pass ``t0``/``t1`` to draw a window (default: every step).

        Parameters
        ----------
        view : str
            ``"dashboard"`` (default: the main panels in one figure) or one view:
            ``"heatmap"``, ``"gates"`` (gate heatmaps), ``"gatelines"``, ``"memory"``,
            ``"gradients"``, ``"confidence"``, ``"input"``, ``"vector"``, ``"attention"``,
            ``"trajectory"``, ``"weights"``, ``"scatter"`` (or the names of the
            :mod:`lstmviz_widget.plot` functions).

        Returns
        -------
        (Figure, Axes or dict of Axes)
            Needs matplotlib (``pip install "lstmviz-widget[plot]"``).
        """
        from ..plot import view_figure

        return view_figure(self, view, t0=t0, t1=t1)

    def save_html(
        self,
        path: str | Path,
        *,
        overwrite: bool = False,
        title: str | None = None,
        tile_budget: int = payload_tiled.OFFLINE_BUDGET,
    ) -> Path:
        """Save the explorer as one self-contained HTML page (``.html``).

        It opens from disk in any browser with no kernel and no network (all scripts and data
        inlined, a few MB) and scrubs like the notebook widget; changes there do not come back
        to Python. Works without a running notebook.

        Parameters
        ----------
        path : path-like
            Ends in ``.html`` or ``.htm``.
        overwrite : bool
            Replace an existing file (otherwise ``FileExistsError``).
        title : str, optional
            Page title (default: "LSTM explorer of <model name>").
        tile_budget : int
            A tiled (long) explorer only: bytes of tiles the page may embed (default 50 MB).
            Every level is embedded when they fit; otherwise the finest levels are dropped and
            the page says how many steps its finest columns hold.
        """
        from .html import save_html

        if isinstance(tile_budget, bool) or not isinstance(tile_budget, int) or tile_budget <= 0:
            raise ValueError(f"tile_budget must be a positive number of bytes, got {tile_budget!r}")
        return save_html(self, path, overwrite=overwrite, title=title, tile_budget=tile_budget)


def _quantities(lc: LayerCapture) -> list[str]:
    """What the heatmap can show for one layer: h, c (LSTM) and each gate."""
    return ["h"] + (["c"] if lc.c is not None else []) + [f"gate:{g}" for g in lc.gates]
