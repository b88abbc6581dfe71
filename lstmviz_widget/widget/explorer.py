"""`LSTMExplorer`: linked, scrubbable views of a Capture. Mirrored by js/model.ts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anywidget
import traitlets as t

from ..data import Capture, LayerCapture
from . import payload
from .codec import TRANSPORTS

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
        _snapshots: tuple[list[tuple[int, Capture]], int] | None = None,
    ) -> None:
        # _snapshots: (snapshots, index shown) from from_snapshots, so that the payload is
        # built once, for the right epoch, with the epochs list.
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

            cap = capture(model_or_capture, seq, mask=mask, tokens=tokens)
        if transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {TRANSPORTS}, got {transport!r}")
        self.capture: Capture = cap
        """Capture: the arrays the views draw (read-only by convention)."""
        self._transport = transport
        snapshots, index = ([(0, cap)], 0) if _snapshots is None else _snapshots
        self.snapshots: list[tuple[int, Capture]] = snapshots
        """list of (epoch, Capture): what the ``epoch`` trait scrubs across."""
        self._payload_epoch = index  # the snapshot `_data` was built for
        epochs = None if _snapshots is None else [int(e) for e, _ in snapshots]
        data = payload.capture_payload(cap, epochs, transport=transport)
        first = cap.layer_names[0]
        super().__init__(_data=data, layer=layer or first, epoch=index)
        self.sample = sample
        self.timestep = timestep
        self.quantity = quantity

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
        self._data = payload.capture_payload(
            self.capture, [int(e) for e, _ in self.snapshots], transport=self._transport
        )

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
        self, path: str | Path, *, overwrite: bool = False, title: str | None = None
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
        """
        from .html import save_html

        return save_html(self, path, overwrite=overwrite, title=title)


def _quantities(lc: LayerCapture) -> list[str]:
    """What the heatmap can show for one layer: h, c (LSTM) and each gate."""
    return ["h"] + (["c"] if lc.c is not None else []) + [f"gate:{g}" for g in lc.gates]
