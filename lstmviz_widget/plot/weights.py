"""A layer's weights per gate, and every weight against its gradient."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._common import as_capture, nan_note, new_axes, pick_layer, title
from ._common import colorbar as add_colorbar
from ._style import colormap, gate_color, layer_title, weight_domain

#: The parts of a gate's weights, top to bottom, and their row labels.
PARTS = (("kernel", "input → unit"), ("recurrent_kernel", "unit → unit"), ("bias", "bias"))
#: Gap between blocks, in cells.
GAP = 1.0


def weights(
    cap: Any,
    layer: str | None = None,
    ax: Axes | None = None,
    *,
    grad: bool = False,
    colorbar: bool = True,
) -> tuple[Figure, Axes]:
    """Every gate's weights side by side ("cell" for a SimpleRNN): the input kernel (rows =
    input features) over the recurrent kernel (rows = source units) over the bias, columns =
    the gate's units. One diverging colour domain for the whole layer, as in the widget (the
    99.5th percentile of |w| over the kernels, so one huge weight does not wash the rest out).

    ``grad=True`` draws ∂L/∂w instead (a capture made with ``gradients=True``). One image per
    (gate, part), in gate order then part order (``ax.images``); each image's array is that
    slice (:meth:`LayerCapture.gate_weights`).
    """
    c = as_capture(cap)
    lc = pick_layer(c, layer)
    source = lc.grad_weights if grad else lc.weights
    if not source:
        raise ValueError(
            f"layer {lc.name!r} has no weight gradients; capture with gradients=True"
            if grad
            else f"layer {lc.name!r} has no weights in this capture"
        )
    gates = lc.gate_names or ("cell",)
    parts = {g: lc.gate_weights(g, grad=grad) for g in gates}
    mats = [p[n] for p in parts.values() for n in ("kernel", "recurrent_kernel") if n in p]
    biases = [p["bias"] for p in parts.values() if "bias" in p]
    lo, hi = weight_domain(mats, biases)
    fig, ax = new_axes(ax, (min(12.0, 2.0 + 2.2 * len(gates)), 3.6))
    cmap = colormap("diverging")
    u = lc.units
    y = 0.0
    row_tops: list[tuple[float, float, str]] = []
    for name, label in PARTS:
        rows = 0
        for gi, g in enumerate(gates):
            if name not in parts[g]:
                continue
            m = np.atleast_2d(np.asarray(parts[g][name], np.float32))
            rows = m.shape[0]
            x0 = gi * (u + GAP)
            ax.imshow(
                np.ma.masked_invalid(m),
                cmap=cmap,
                vmin=lo,
                vmax=hi,
                aspect="auto",
                interpolation="nearest",
                extent=(x0, x0 + u, y + rows, y),
            )
        if rows:
            row_tops.append((y, y + rows, label))
            y += rows + GAP
    ax.set_xlim(-0.5, len(gates) * (u + GAP) - GAP + 0.5)
    ax.set_ylim(y - GAP + 0.5, -0.5)
    ax.set_yticks([0.5 * (a + b) for a, b, _ in row_tops], [t for _, _, t in row_tops], fontsize=8)
    ticks, labels = [], []
    for gi, g in enumerate(gates):
        x0 = gi * (u + GAP)
        ax.text(
            x0 + u / 2,
            1.01,
            f"{g}",
            ha="center",
            va="bottom",
            fontsize=8,
            color=gate_color(g, gi),
            fontweight="bold",
            transform=ax.get_xaxis_transform(),
        )
        ticks += [x0 + 0.5, x0 + u - 0.5]
        labels += ["0", str(u - 1)] if u > 1 else ["0", ""]
    ax.set_xticks(ticks, labels, fontsize=7)
    ax.set_xlabel("unit (per gate)")
    for s in ax.spines.values():
        s.set_visible(False)
    if colorbar and ax.images:
        add_colorbar(ax, ax.images[0], "∂L/∂w" if grad else "weight")
    every = np.concatenate([np.ravel(a) for a in [*mats, *biases]])
    nan_note(ax, every, y=1.06)
    mx = (
        float(np.nanmax(np.abs(np.where(np.isfinite(every), every, np.nan)))) if every.size else 0.0
    )
    clip = f" · colours clipped at ±{hi:.3g} (max {mx:.3g})" if mx > hi * (1 + 1e-6) else ""
    ax.set_title(
        f"{'weight gradients' if grad else 'weights'} · {layer_title(c, lc.name)}{clip}",
        loc="left",
        fontsize=9,
        pad=16,
    )
    return fig, ax


def symlog_constant(values: np.ndarray, q: float = 0.1) -> float:
    """The linear range of the gradient axis: ~ the 10th percentile of the non-zero finite
    |∂L/∂w|, rounded down to a power of ten (js/weightmath.ts symlogConstant); 1 if none."""
    a = np.abs(np.asarray(values, np.float64))
    a = a[np.isfinite(a) & (a > 0)]
    if not a.size:
        return 1.0
    return float(10.0 ** np.floor(np.log10(np.quantile(a, q))))


def weight_vs_gradient(
    cap: Any,
    layer: str | None = None,
    ax: Axes | None = None,
    *,
    highlight: tuple[int, ...] = (),
    rasterize_above: int = 20_000,
) -> tuple[Figure, Axes]:
    """Every weight of a layer as a point: x = its value, y = ∂L/∂w on a symlog axis (linear
    within ±c, c ≈ the 10th percentile of the non-zero |∂L/∂w|), one colour per gate.
    ``highlight`` units: their weights (the columns of every matrix) drawn on top in black
    outline. Needs ``gradients=True``. Points are rasterised in vector output above
    ``rasterize_above`` weights (files stay small). One scatter per gate (``ax.collections``),
    offsets = (w, ∂L/∂w) in kernel, recurrent kernel, bias order."""
    c = as_capture(cap)
    lc = pick_layer(c, layer)
    if not lc.grad_weights:
        raise ValueError(
            f"layer {lc.name!r} has no weight gradients; capture with "
            "lstmviz_widget.capture(model, seq, y=..., gradients=True)"
        )
    fig, ax = new_axes(ax, (4.8, 3.8))
    gates = lc.gate_names or ("cell",)
    all_g = np.concatenate([np.ravel(v) for v in lc.grad_weights.values()])
    lin = symlog_constant(all_g)
    many = all_g.size > rasterize_above
    for gi, g in enumerate(gates):
        w = lc.gate_weights(g)
        dw = lc.gate_weights(g, grad=True)
        xs = np.concatenate(
            [np.ravel(w[n]) for n in ("kernel", "recurrent_kernel", "bias") if n in w]
        )
        ys = np.concatenate(
            [np.ravel(dw[n]) for n in ("kernel", "recurrent_kernel", "bias") if n in dw]
        )
        ax.scatter(
            xs,
            ys,
            s=4 if many else 9,
            color=gate_color(g, gi),
            alpha=0.55,
            lw=0,
            label=g,
            rasterized=many,
        )
    for u in highlight:
        if not 0 <= u < lc.units:
            raise IndexError(f"highlight unit {u} out of range [0, {lc.units - 1}]")
        for gi, g in enumerate(gates):
            w = lc.gate_weights(g)
            dw = lc.gate_weights(g, grad=True)
            xs = np.concatenate([np.ravel(w[n][..., u]) for n in w])
            ys = np.concatenate([np.ravel(dw[n][..., u]) for n in dw])
            ax.scatter(
                xs,
                ys,
                s=16,
                facecolor=gate_color(g, gi),
                edgecolor="#111111",
                lw=0.6,
                zorder=3,
                label="_highlight",
            )
    ax.set_yscale("symlog", linthresh=lin)
    ax.axhline(0, color="#999999", lw=0.6)
    ax.axvline(0, color="#999999", lw=0.6)
    ax.set_xlabel("weight w")
    ax.set_ylabel(f"∂L/∂w (symlog, linear within ±{lin:.0e})")
    ax.legend(fontsize=7, frameon=False, markerscale=2, loc="best")
    title(ax, f"weight vs gradient · {layer_title(c, lc.name)}")
    return fig, ax
