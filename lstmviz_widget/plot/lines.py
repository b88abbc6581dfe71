"""Line tracks over time: gate means, memory flow, gradient norms."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.transforms import offset_copy

from ..analysis import memory_flow as analysis_memory_flow
from ._common import (
    as_capture,
    check_sample,
    check_units,
    check_window,
    envelope,
    new_axes,
    pick_layer,
    pixel_columns,
    time_axis,
    title,
)
from ._style import (
    CARRIED_COLOR,
    NAN_COLOR,
    STATE_GRAD_COLORS,
    TANH_GATES,
    WRITTEN_COLOR,
    gate_color,
    layer_title,
)


def line(
    ax: Axes,
    y: np.ndarray,
    t0: int,
    cols: int,
    color: str,
    lw: float,
    bad: np.ndarray | None = None,
    **kw: Any,
) -> Any:
    """One series, reduced to a min/max stroke per pixel column when it has more steps;
    NaN/Inf steps (or ``bad``) marked in magenta along the bottom."""
    x, yy, _ = envelope(y, t0, cols)
    (ln,) = ax.plot(x, yy, color=color, lw=lw, **kw)
    if bad is None:
        bad = ~np.isfinite(np.asarray(y, np.float64))
    if bad.any():
        steps = t0 + np.flatnonzero(bad)
        ax.plot(
            steps,
            np.zeros_like(steps, float),
            "|",
            color=NAN_COLOR,
            ms=6,
            transform=ax.get_xaxis_transform(),
            clip_on=False,
        )
    return ln


def _step_stats(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over units per step and the band mean ± 1 sd clipped to the step's min–max."""
    a64 = np.asarray(a, np.float64)
    mean = a64.mean(axis=-1)
    sd = a64.std(axis=-1)
    lo = np.maximum(mean - sd, a64.min(axis=-1))
    hi = np.minimum(mean + sd, a64.max(axis=-1))
    return mean, lo, hi


def gates(
    cap: Any,
    layer: str | None = None,
    sample: int = 0,
    t0: int | None = None,
    t1: int | None = None,
    units: Sequence[int] = (),
    ax: Axes | None = None,
    *,
    cursor: int | None = None,
    columns: int | None = None,
    band: bool = True,
) -> tuple[Figure, Axes]:
    """Every gate of a layer over time: the mean over units as a line (one colour per gate)
    with a band of mean ± 1 sd (clipped to the step's min–max) and thin lines of ``units``.

    Sigmoid gates lie in [0, 1]; the tanh "gates" (LSTM's cell candidate g, GRU's candidate
    h̃) are signed and drawn on a second y axis (right, [-1, 1]) dashed. Line ``i`` of the
    gates is ``ax.lines`` labelled with the gate's name; its y-data is the mean over units
    (or its min/max per pixel column when the window has more steps than the axes pixels).
    """
    c = as_capture(cap)
    lc = pick_layer(c, layer)
    if not lc.gates:
        raise ValueError(f"layer {lc.name!r} is a {lc.kind}: it has no gates to draw")
    b = check_sample(c, sample)
    n_t = lc.h.shape[1]
    a, z = check_window(t0, t1, n_t)
    shown = check_units(units, lc.units) or []
    fig, ax = new_axes(ax, (8.0, 2.4))
    cols = columns if columns is not None else pixel_columns(ax)
    signed = [g for g in lc.gates if g in TANH_GATES or float(np.nanmin(lc.gates[g])) < -1e-6]
    tanh_ax = ax.twinx() if signed else None
    for i, (g, arr) in enumerate(lc.gates.items()):
        target = tanh_ax if (tanh_ax is not None and g in signed) else ax
        color = gate_color(g, i)
        mean, lo, hi = _step_stats(arr[b, a:z])
        if band:
            xs = np.arange(a, z)
            if z - a <= cols:
                target.fill_between(xs, lo, hi, color=color, alpha=0.16, lw=0)
            else:
                _, lo_r, _ = envelope(lo, a, cols)
                x_r, hi_r, _ = envelope(hi, a, cols)
                target.fill_between(x_r, lo_r, hi_r, color=color, alpha=0.16, lw=0)
        dash = "--" if target is tanh_ax else "-"
        line(target, mean, a, cols, color, 2.0, label=g, ls=dash)
        for u in shown:
            line(
                target,
                arr[b, a:z, u],
                a,
                cols,
                color,
                0.8,
                ls=dash,
                alpha=0.9,
                label=f"_{g} unit {u}",
            )
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("sigmoid gate (0…1)")
    if tanh_ax is not None:
        m = max(1.0, *(float(np.nanmax(np.abs(lc.gates[g]))) for g in signed))
        tanh_ax.set_ylim(-m * 1.02, m * 1.02)
        tanh_ax.set_ylabel("tanh gate (signed)")
        tanh_ax.axhline(0, color="#999999", lw=0.6, ls=":")
    time_axis(ax, c, b, a, z, cursor=cursor)
    handles = [
        ln
        for ln in [*ax.lines, *(tanh_ax.lines if tanh_ax else [])]
        if not str(ln.get_label()).startswith("_")
    ]
    ax.legend(
        handles=handles,
        fontsize=7,
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        # right of the tanh axis' ticks and label when there is one
        bbox_transform=offset_copy(ax.transAxes, fig, x=46 if tanh_ax else 0, units="points"),
        frameon=False,
        title="mean over units",
        title_fontsize=7,
    )
    note = f" · thin: units {', '.join(map(str, shown))}" if shown else ""
    title(ax, f"gates · {layer_title(c, lc.name)} · mean over units (band ± 1 sd){note}")
    return fig, ax


def memory_flow(
    cap: Any,
    layer: str | None = None,
    sample: int = 0,
    t0: int | None = None,
    t1: int | None = None,
    units: Sequence[int] = (),
    ax: Axes | None = None,
    *,
    cursor: int | None = None,
    columns: int | None = None,
) -> tuple[Figure, Axes]:
    """How much of the state each step carries from the past and how much it writes
    (:func:`lstmviz_widget.analysis.memory_flow`): mean |carried| and mean |written| over
    units (LSTM: |f ⊙ c₋₁| vs |i ⊙ g|; GRU: |z ⊙ h₋₁| vs |(1 − z) ⊙ h̃|), thin lines for
    ``units``. Lines labelled "carried" and "written"."""
    c = as_capture(cap)
    lc = pick_layer(c, layer)
    flow = analysis_memory_flow(lc)
    b = check_sample(c, sample)
    a, z = check_window(t0, t1, lc.h.shape[1])
    shown = check_units(units, lc.units) or []
    fig, ax = new_axes(ax, (8.0, 2.2))
    cols = columns if columns is not None else pixel_columns(ax)
    carried = np.abs(np.asarray(flow.carried[b, a:z], np.float64))
    written = np.abs(np.asarray(flow.written[b, a:z], np.float64))
    for arr, color, name in (
        (carried, CARRIED_COLOR, "carried"),
        (written, WRITTEN_COLOR, "written"),
    ):
        mean = arr.mean(axis=-1)
        x, y, _ = envelope(mean, a, cols)
        ax.fill_between(x, 0, y, color=color, alpha=0.13, lw=0)
        line(ax, mean, a, cols, color, 2.0, label=name)
        for u in shown:
            line(ax, arr[:, u], a, cols, color, 0.8, label=f"_{name} unit {u}")
    ax.set_ylim(bottom=0)
    state = flow.state
    ax.set_ylabel(f"|part of {state}(t)|")
    time_axis(ax, c, b, a, z, cursor=cursor)
    parts = "|f⊙c₋₁| vs |i⊙g|" if lc.kind == "LSTM" else "|z⊙h₋₁| vs |(1−z)⊙h̃|"
    ax.legend(
        fontsize=7,
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        frameon=False,
        title=f"{parts},\nmean over units",
        title_fontsize=7,
    )
    title(ax, f"memory flow · {layer_title(c, lc.name)} · {state}(t) = carried + written")
    return fig, ax


def gradients(
    cap: Any,
    layer: str | None = None,
    sample: int = 0,
    t0: int | None = None,
    t1: int | None = None,
    ax: Axes | None = None,
    *,
    cursor: int | None = None,
    columns: int | None = None,
    gate_lines: bool = True,
) -> tuple[Figure, Axes]:
    """Gradients through time on a log scale: ‖∂L/∂h_t‖ and ‖∂L/∂c_t‖ (L2 norm over units)
    as thick lines, each gate's ‖∂L/∂(pre-activation)‖ thin and dashed. Needs a capture made
    with ``gradients=True``. Zeros are gaps (a log axis has no 0)."""
    c = as_capture(cap)
    lc = pick_layer(c, layer)
    if lc.grad_h is None:
        raise ValueError(
            f"layer {lc.name!r} has no gradients; capture with "
            "lstmviz_widget.capture(model, seq, y=..., gradients=True)"
        )
    b = check_sample(c, sample)
    a, z = check_window(t0, t1, lc.h.shape[1])
    fig, ax = new_axes(ax, (8.0, 2.4))
    cols = columns if columns is not None else pixel_columns(ax)
    series: list[tuple[str, np.ndarray, str, float, str]] = []
    for key, arr in (("h", lc.grad_h), ("c", lc.grad_c)):
        if arr is not None:
            series.append((f"‖∂L/∂{key}‖", arr, STATE_GRAD_COLORS[key], 2.0, "-"))
    if gate_lines:
        for i, (g, arr) in enumerate(lc.grad_gates.items()):
            series.append((f"‖∂L/∂ {g} gate‖", arr, gate_color(g, i), 1.0, "--"))
    for label, arr, color, lw, ls in series:
        x64 = np.asarray(arr[b, a:z], np.float64)
        norm = np.sqrt(np.einsum("tu,tu->t", x64, x64))
        bad = ~np.isfinite(norm)
        line(ax, np.where(norm > 0, norm, np.nan), a, cols, color, lw, bad, ls=ls, label=label)
    ax.set_yscale("log")
    ax.set_ylabel("gradient norm (log)")
    time_axis(ax, c, b, a, z, cursor=cursor)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    title(ax, f"gradient norms · {layer_title(c, lc.name)} · log scale")
    return fig, ax


def norms_of(arr: np.ndarray) -> np.ndarray:
    """L2 norm over units at every step, (B, T) float64 (what the gradient lines draw)."""
    a = np.asarray(arr, np.float64)
    out: np.ndarray = np.sqrt(np.einsum("btu,btu->bt", a, a))
    return out
