"""Colours, colour domains and labels of the widget, for matplotlib (numpy + matplotlib only).

Mirrors js/math/scales.ts (colour maps, their domains, series colours), js/math/gates.ts (gate
colours) and js/math/tokens.ts (token display), so a figure means what the widget shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.colors import Colormap, Normalize

from ..data import Capture

#: The NaN / ±Inf colour of every view (never clamped into a ramp).
NAN_COLOR = "#ff00ff"
#: Padded steps (beyond a sample's length) are shaded with this colour.
PAD_COLOR = "#9e9e9e"

#: Fixed colours of the usual gates (js/math/gates.ts GATE_COLORS).
GATE_COLORS: dict[str, str] = {
    "input": "#4e79a7",
    "forget": "#f28e2b",
    "cell": "#b07aa1",
    "output": "#59a14f",
    "update": "#f28e2b",
    "reset": "#76b7b2",
    "candidate": "#b07aa1",
}
#: Conventional symbols of the gates (js/views/gates.ts).
GATE_SYMBOLS: dict[str, str] = {
    "input": "i",
    "forget": "f",
    "cell": "g",
    "output": "o",
    "update": "z",
    "reset": "r",
    "candidate": "h̃",
}
#: Tableau 10, the widget's series palette (js/math/scales.ts SERIES_COLORS).
SERIES_COLORS = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#b07aa1",
    "#76b7b2",
    "#edc948",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)
#: Input feature lines (js/views/input.ts INPUT_COLORS).
INPUT_COLORS = (
    "#4e79a7",
    "#59a14f",
    "#e15759",
    "#b07aa1",
    "#76b7b2",
    "#9c755f",
    "#ff9da7",
    "#8cd17d",
)
#: Gradient norm lines of the states (js/views/gradients.ts).
STATE_GRAD_COLORS = {"h": "#e15759", "c": "#9c755f"}
#: Memory flow (js/views/memory.ts).
CARRIED_COLOR = "#4e79a7"
WRITTEN_COLOR = "#f28e2b"
#: Confidence line and mispredicted ticks (js/views/confidence.ts).
CONFIDENCE_COLOR = "#4e79a7"
WRONG_COLOR = "#e03131"

#: Gates whose activation is tanh (signed) rather than sigmoid.
TANH_GATES = frozenset({"cell", "candidate"})
#: A unit whose max |v| exceeds this many times the 75th percentile of the units' maxima is an
#: outlier for the colour domain (js/math/scales.ts OUTLIER_RATIO).
OUTLIER_RATIO = 4.0
#: Weight colour domain: this quantile of |w| over the kernels (js/math/weights.ts).
WEIGHT_QUANTILE = 0.995
#: ... or the maximum when that is at most this many times the quantile.
WEIGHT_NEAR_MAX = 1.25


def gate_color(name: str, index: int) -> str:
    """Colour of a gate: its fixed colour, else the series palette by position."""
    return GATE_COLORS.get(name, SERIES_COLORS[index % len(SERIES_COLORS)])


def class_color(k: int) -> str:
    """Colour of a predicted class (the confidence view's strip)."""
    return SERIES_COLORS[k % len(SERIES_COLORS)]


@dataclass(frozen=True)
class ColorSpec:
    """Which colour map a quantity gets and its domain (js/math/scales.ts ``colorSpec``)."""

    kind: str  # "diverging" | "sequential"
    domain: tuple[float, float]

    @property
    def mid(self) -> float:
        """The value at the middle of the ramp (the extreme-preserving reduction's centre)."""
        return 0.5 * (self.domain[0] + self.domain[1])

    def cmap(self) -> Colormap:
        """The colour map with NaN/±Inf in the NaN colour."""
        return colormap(self.kind)

    def norm(self) -> Normalize:
        """Values clamped into the domain (the end colours take what lies beyond)."""
        return Normalize(self.domain[0], self.domain[1], clip=True)


def colormap(kind: str) -> Colormap:
    """Diverging: blue (negative) → white → red (positive), ColorBrewer RdBu as in d3's
    ``interpolateRdBu(1 − t)``; sequential: viridis. NaN/±Inf: magenta."""
    import matplotlib as mpl

    base = mpl.colormaps["RdBu_r" if kind == "diverging" else "viridis"]
    return base.with_extremes(bad=NAN_COLOR)


def _finite_abs(values: np.ndarray) -> np.ndarray:
    a = np.abs(np.asarray(values, np.float64))
    return a[np.isfinite(a)]


def symmetric_domain(
    values: np.ndarray, cap: float | None = None, units: bool = False
) -> tuple[float, float]:
    """[-m, m]: m = max |v| (finite values), capped at ``cap`` when float slop lies just above
    it; with ``units`` (the last axis), a few units dwarfing the rest (max > 4 × the 75th
    percentile of the units' maxima) make m that percentile (js/math/scales.ts symmetricDomain)."""
    values = np.asarray(values)
    fin = _finite_abs(values)
    m = float(fin.max()) if fin.size else 0.0
    if cap is not None and cap < m <= cap * 1.001:
        m = cap
    elif units and values.ndim >= 1 and values.shape[-1] > 1 and (cap is None or m > cap):
        a = np.abs(np.asarray(values, np.float64)).reshape(-1, values.shape[-1])
        a = np.where(np.isfinite(a), a, 0.0)
        maxima = np.sort(a.max(axis=0))
        p75 = float(maxima[int(np.floor(0.75 * (maxima.size - 1)))])
        if p75 > 0 and m > OUTLIER_RATIO * p75:
            m = max(p75, cap or 0.0)
    if not m > 0:
        m = 1.0
    return (-m, m)


def color_spec(quantity: str, values: np.ndarray) -> ColorSpec:
    """The colour map and domain of a quantity, from the whole (B, T, U) array so switching
    samples keeps colours comparable: h and c diverging (h capped at 1), sigmoid gates viridis
    on [0, 1], tanh gates (and any gate holding negatives) diverging on [-1, 1]."""
    if quantity.startswith("gate:"):
        gate = quantity[5:]
        fin = np.asarray(values, np.float64)
        fin = fin[np.isfinite(fin)]
        if gate in TANH_GATES or (fin.size and fin.min() < -1e-6):
            return ColorSpec("diverging", symmetric_domain(values, 1.0))
        return ColorSpec("sequential", (0.0, 1.0))
    cap = 1.0 if quantity == "h" else None
    return ColorSpec("diverging", symmetric_domain(values, cap, units=True))


def weight_domain(matrices: list[np.ndarray], biases: list[np.ndarray]) -> tuple[float, float]:
    """One symmetric domain for all gates of a layer (js/math/weights.ts weightDomain): the
    99.5th percentile of |w| over the kernels, or max |w| (bias included) when that is at most
    1.25 × the percentile; 1 when every weight is 0 or non-finite."""
    every = [*matrices, *biases]
    all_abs = _finite_abs(np.concatenate([np.ravel(a) for a in every])) if every else np.zeros(0)
    mx = float(all_abs.max()) if all_abs.size else 0.0
    src = matrices if matrices else biases
    q_abs = _finite_abs(np.concatenate([np.ravel(a) for a in src])) if src else np.zeros(0)
    m = float(np.quantile(q_abs, WEIGHT_QUANTILE)) if q_abs.size else 0.0
    if not m > 0:
        m = mx
    if not m > 0:
        m = 1.0
    if 0 < mx <= WEIGHT_NEAR_MAX * m:
        m = mx
    return (-m, m)


def quantity_label(quantity: str, kind: str = "LSTM") -> str:
    """Axis / legend label of a quantity: "h (hidden state)", "forget gate f", ..."""
    if quantity == "h":
        return "h (hidden state)"
    if quantity == "c":
        return "c (cell state)"
    if quantity.startswith("gate:"):
        g = quantity[5:]
        sym = GATE_SYMBOLS.get(g, "")
        name = "candidate" if g == "candidate" else f"{g} gate"
        return f"{name} {sym}".strip()
    return quantity


def display_token(tok: str) -> str:
    """A token as shown on an axis: whitespace made visible (js/math/tokens.ts displayToken)."""
    return tok.replace(" ", "␣").replace("\r\n", "↵").replace("\n", "↵").replace("\t", "⇥")


def clip_chars(text: str, n: int) -> str:
    """``text`` cut to at most ``n`` characters, with "…" when cut."""
    return text if len(text) <= n else ("…" if n <= 1 else text[: n - 1] + "…")


def layer_title(cap: Capture, layer: str) -> str:
    """ "lstm (forward)" for a direction of a Bidirectional, else the name."""
    lc = cap[layer]
    return f"{lc.name}{f' ({lc.direction})' if lc.direction else ''}"
