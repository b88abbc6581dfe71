"""Layer health: saturated gates, dead units, collapsed hidden states.

Every statistic counts valid steps only (masked and padded steps are left out). Each result
carries its arrays and a list of plain-language ``findings`` a health panel can show as is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..data import LayerCapture
from ._common import check_mask, per_sample_moments, resolve, sample_chunks, time_chunks

#: Gates whose activation is the layer's ``activation`` (tanh by default, range (−1, 1)).
TANH_GATES = ("cell", "candidate")


@dataclass
class GateSaturation:
    """Saturation of one gate, per unit.

    Attributes
    ----------
    gate : str
        Gate name.
    kind : str
        ``"sigmoid"`` (range (0, 1)) or ``"tanh"`` (range (−1, 1)).
    low, high : ndarray, float64, (U,)
        Fraction of valid steps stuck low / high: below ``low_threshold`` / above
        ``high_threshold`` for sigmoid gates; below −``high_threshold`` / above
        ``high_threshold`` for tanh gates.
    saturated : ndarray, float64, (U,)
        ``low + high``: fraction of valid steps in either saturated region.
    n_valid : int
        Number of valid steps counted (pooled over samples).
    """

    gate: str
    kind: str
    low: np.ndarray
    high: np.ndarray
    saturated: np.ndarray
    n_valid: int

    @property
    def mean_saturated(self) -> float:
        """Saturated fraction averaged over units."""
        return float(self.saturated.mean()) if self.saturated.size else 0.0


@dataclass
class DeadUnits:
    """Units that carry no information.

    Attributes
    ----------
    max_abs : ndarray, float64, (U,)
        max |h| over valid steps.
    span : ndarray, float64, (U,)
        max h − min h over valid steps.
    quiet : ndarray of bool, (U,)
        |h| < threshold at every valid step.
    frozen : ndarray of bool, (U,)
        span < threshold: the unit never changes (over all samples and valid steps).
    dead : ndarray of bool, (U,)
        ``quiet | frozen``.
    threshold : float
    findings : list of str
    """

    max_abs: np.ndarray
    span: np.ndarray
    quiet: np.ndarray
    frozen: np.ndarray
    dead: np.ndarray
    threshold: float
    findings: list[str] = field(default_factory=list)

    @property
    def indices(self) -> np.ndarray:
        """Indices of the dead units."""
        return np.flatnonzero(self.dead)


@dataclass
class StateCollapse:
    """How much each unit's state moves over time within each sample.

    Attributes
    ----------
    variance : ndarray, float64, (B, U)
        Variance over the sample's valid steps (ddof 0); NaN for a sample with none.
    mean_variance : float
        Mean of ``variance`` (NaNs ignored).
    collapsed : bool
        ``mean_variance < threshold``: the hidden state barely moves over time.
    threshold : float
    findings : list of str
    """

    variance: np.ndarray
    mean_variance: float
    collapsed: bool
    threshold: float
    findings: list[str] = field(default_factory=list)


@dataclass
class HealthReport:
    """Everything :func:`health_report` found for one layer.

    Attributes
    ----------
    saturation : dict of str to GateSaturation
    dead : DeadUnits
    collapse : StateCollapse
    findings : list of str
        All findings, most important first; empty when nothing looks wrong.
    """

    saturation: dict[str, GateSaturation]
    dead: DeadUnits
    collapse: StateCollapse
    findings: list[str]


def gate_saturation(
    source: LayerCapture | Mapping[str, Any],
    *,
    mask: Any = None,
    low: float = 0.05,
    high: float = 0.95,
    tanh_gates: Sequence[str] = TANH_GATES,
) -> dict[str, GateSaturation]:
    """Fraction of valid steps each gate unit spends saturated.

    Sigmoid gates count steps with activation < ``low`` (closed) and > ``high`` (open);
    tanh-range gates (``tanh_gates``) count x < −``high`` and x > ``high`` (|x| > ``high``).

    Parameters
    ----------
    source : LayerCapture or mapping of str to ndarray (B, T, U)
        A captured layer (its ``gates`` and mask) or gate arrays by name.
    mask : ndarray of bool, (B, T), optional
        Valid steps; defaults to the capture's mask.
    low, high : float
        Saturation thresholds of sigmoid gates; ``high`` is also |x| for tanh gates.
    tanh_gates : sequence of str
        Names of gates with range (−1, 1).

    Returns
    -------
    dict of str to GateSaturation
        In the gates' order; empty for a SimpleRNN.
    """
    gates = source.gates if isinstance(source, LayerCapture) else source
    if mask is None and isinstance(source, LayerCapture):
        mask = source.mask
    out: dict[str, GateSaturation] = {}
    for name, arr in gates.items():
        g = np.asarray(arr)
        if g.ndim != 3:
            raise ValueError(f"gate {name!r} must be (B, T, U), got shape {g.shape}")
        m = check_mask(mask, g.shape[:2])
        n = int(g.shape[0] * g.shape[1]) if m is None else int(m.sum())
        kind = "tanh" if name in tanh_gates else "sigmoid"
        lo_thr = -high if kind == "tanh" else low
        lo_count = np.zeros(g.shape[-1], np.int64)
        hi_count = np.zeros(g.shape[-1], np.int64)
        for sl in sample_chunks(g):  # chunks of samples and steps: no (B, T, U) temporary
            for ts in time_chunks(g, sl):
                part, w = g[sl, ts], True if m is None else m[sl, ts][..., None]
                lo_count += np.sum(part < lo_thr, axis=(0, 1), where=w, dtype=np.int64)
                hi_count += np.sum(part > high, axis=(0, 1), where=w, dtype=np.int64)
        denom = max(n, 1)
        lo_frac, hi_frac = lo_count / denom, hi_count / denom
        out[name] = GateSaturation(name, kind, lo_frac, hi_frac, lo_frac + hi_frac, n)
    return out


def dead_units(
    source: Any, *, mask: Any = None, threshold: float = 1e-3, state: str = "h"
) -> DeadUnits:
    """Units whose state stays below ``threshold`` in magnitude, or never changes.

    Parameters
    ----------
    source : LayerCapture or ndarray, (B, T, U)
        A captured layer or its states.
    mask : ndarray of bool, (B, T), optional
        Valid steps; defaults to the capture's mask.
    threshold : float
        A unit is *quiet* when |h| < threshold at every valid step, *frozen* when
        max h − min h < threshold over all samples and valid steps; dead when either.
    state : {"h", "c"}
        Which state of a LayerCapture to check.

    Returns
    -------
    DeadUnits
    """
    x, m = resolve(source, mask, state)
    where = True if m is None else m[..., None]
    if m is not None and not m.any():
        raise ValueError("no valid step to check")
    hi = np.max(x, axis=(0, 1), where=where, initial=-np.inf).astype(np.float64)
    lo = np.min(x, axis=(0, 1), where=where, initial=np.inf).astype(np.float64)
    max_abs = np.maximum(np.abs(hi), np.abs(lo))
    span = hi - lo
    quiet = max_abs < threshold
    frozen = span < threshold
    dead = quiet | frozen
    findings = []
    if dead.any():
        u = x.shape[-1]
        parts = []
        if quiet.any():
            parts.append(f"{quiet.sum()} never reach |{state}| ≥ {threshold:g} ({_units(quiet)})")
        only_frozen = frozen & ~quiet
        if only_frozen.any():
            parts.append(f"{only_frozen.sum()} constant over all steps ({_units(only_frozen)})")
        findings.append(f"{dead.sum()}/{u} units dead: " + "; ".join(parts))
    return DeadUnits(max_abs, span, quiet, frozen, dead, threshold, findings)


def state_collapse(
    source: Any, *, mask: Any = None, threshold: float = 1e-4, state: str = "h"
) -> StateCollapse:
    """Variance of each unit over time within each sample, and a collapse flag.

    Parameters
    ----------
    source : LayerCapture or ndarray, (B, T, U)
        A captured layer or its states.
    mask : ndarray of bool, (B, T), optional
        Valid steps; defaults to the capture's mask.
    threshold : float
        The state counts as collapsed when the mean variance is below it.
    state : {"h", "c"}
        Which state of a LayerCapture to check.

    Returns
    -------
    StateCollapse
    """
    x, m = resolve(source, mask, state)
    _, _, var = per_sample_moments(x, m)
    mean_var = float(np.nanmean(var)) if np.isfinite(var).any() else float("nan")
    collapsed = bool(mean_var < threshold)
    findings = []
    if collapsed:
        findings.append(
            f"{state} barely moves over time: mean per-sample variance {mean_var:.3g} "
            f"< {threshold:g} (collapsed state)"
        )
    return StateCollapse(var, mean_var, collapsed, threshold, findings)


def health_report(
    lc: LayerCapture,
    *,
    mask: Any = None,
    low: float = 0.05,
    high: float = 0.95,
    dead_threshold: float = 1e-3,
    collapse_threshold: float = 1e-4,
    unit_saturation: float = 0.5,
) -> HealthReport:
    """Saturation, dead units and collapse of one layer, with findings to show.

    Parameters
    ----------
    lc : LayerCapture
        The captured layer.
    mask : ndarray of bool, (B, T), optional
        Valid steps; defaults to the capture's mask.
    low, high : float
        Gate saturation thresholds (see :func:`gate_saturation`).
    dead_threshold : float
        See :func:`dead_units`.
    collapse_threshold : float
        See :func:`state_collapse`.
    unit_saturation : float
        A gate unit is reported when saturated on more than this fraction of valid steps.

    Returns
    -------
    HealthReport
    """
    if mask is None:
        mask = lc.mask
    sat = gate_saturation(lc, mask=mask, low=low, high=high)
    dead = dead_units(lc, mask=mask, threshold=dead_threshold)
    collapse = state_collapse(lc, mask=mask, threshold=collapse_threshold)
    findings = [*dead.findings, *collapse.findings]
    for name, s in sat.items():
        bad = s.saturated > unit_saturation
        if not bad.any():
            continue
        mostly_low = bad & (s.low >= s.high)
        lo_word, hi_word = ("near −1", "near +1") if s.kind == "tanh" else ("closed", "open")
        findings.append(
            f"{name} gate: {bad.sum()}/{bad.size} units saturated on more than "
            f"{unit_saturation:.0%} of steps ({mostly_low.sum()} mostly {lo_word}, "
            f"{(bad & ~mostly_low).sum()} mostly {hi_word}): {_units(bad)}"
        )
    return HealthReport(sat, dead, collapse, findings)


def _units(flags: np.ndarray, limit: int = 10) -> str:
    idx = np.flatnonzero(flags)
    shown = ", ".join(str(i) for i in idx[:limit])
    more = f", … (+{idx.size - limit})" if idx.size > limit else ""
    return f"unit{'s' if idx.size > 1 else ''} {shown}{more}"
