"""Alert rules: plain-language warnings about a training run, each raised once."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from .stats import parse_key

#: The kind of each rule: what ``LSTMMonitor(checkpoint_on=...)`` names.
ALERT_KINDS = {
    "nan": "nan",
    "nan_grad": "nan",
    "explode": "exploding",
    "jump": "exploding",
    "vanish": "vanishing",
    "saturated": "saturation",
    "collapse": "collapse",
}


@dataclass
class AlertRules:
    """Thresholds of the monitor's alerts, and the alerts raised so far.

    Each problem (a rule on a layer or gate) is reported once, at the step it first occurs,
    so a long run does not flood the list.

    Attributes
    ----------
    explode_norm : float
        A gradient norm above this is exploding.
    explode_jump : float
        A gradient norm more than this many times its previous value is exploding, once it is
        also above ``explode_jump_floor`` (a norm recovering from a vanished value is not).
    explode_jump_floor : float
        The jump rule ignores norms below this.
    vanish_norm : float
        A recurrent-kernel gradient norm below this is vanishing.
    saturation : float
        A gate whose saturated fraction exceeds this is saturated.
    alerts : list of str
        Alerts raised so far, oldest first.
    kinds : list of str
        The kind of each alert (same order): ``"nan"`` (NaN/Inf loss or gradient),
        ``"exploding"``, ``"vanishing"``, ``"saturation"``, ``"collapse"``.
    """

    explode_norm: float = 1e3
    explode_jump: float = 100.0
    explode_jump_floor: float = 1.0
    vanish_norm: float = 1e-7
    saturation: float = 0.9
    alerts: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    _seen: set[tuple[str, ...]] = field(default_factory=set, repr=False)
    _last: dict[str, float] = field(default_factory=dict, repr=False)

    def _raise(self, key: tuple[str, ...], text: str) -> None:
        if key not in self._seen:
            self._seen.add(key)
            self.alerts.append(text)
            self.kinds.append(ALERT_KINDS[key[0]])

    def check_logs(self, where: str, logs: Mapping[str, float]) -> None:
        """NaN/Inf in any loss of Keras's ``logs`` (``where`` says which batch or epoch)."""
        for key, value in logs.items():
            if "loss" in key and isinstance(value, (int, float)) and not math.isfinite(value):
                self._raise(("nan", key), f"{where}: {key} is {value} (NaN/Inf loss)")

    def check_probe(
        self, where: str, stats: Mapping[str, float], collapsed: Mapping[str, bool]
    ) -> None:
        """Gradient, saturation and collapse rules on one probe's :func:`probe_stats`.

        Parameters
        ----------
        where : str
            Step label used in the alert text.
        stats : mapping of str to float
            Output of :func:`~lstmviz_widget.training.probe_stats`.
        collapsed : mapping of str to bool
            Per layer: whether its hidden state collapsed (``StateCollapse.collapsed``).
        """
        for key, value in stats.items():
            quantity, layer, gate, weight = parse_key(key)
            if quantity == "grad_norm" and gate is None and weight is not None:
                self._check_gradient(where, layer, weight, value)
            elif quantity == "saturation" and gate is not None and value > self.saturation:
                self._raise(
                    ("saturated", layer, gate),
                    f"{where}: layer {layer}, {gate} gate saturated on "
                    f"{value:.0%} of steps × units (> {self.saturation:.0%})",
                )
        for layer, flag in collapsed.items():
            if flag:
                self._raise(
                    ("collapse", layer),
                    f"{where}: layer {layer}: hidden state collapsed (barely varies over time)",
                )

    def _check_gradient(self, where: str, layer: str, weight: str, norm: float) -> None:
        key = f"{layer}/{weight}"
        if not math.isfinite(norm):
            self._raise(
                ("nan_grad", key),
                f"{where}: layer {layer}, {weight} gradient norm is {norm} (NaN/Inf gradient)",
            )
            return
        prev = self._last.get(key)
        self._last[key] = norm
        if norm > self.explode_norm:
            self._raise(
                ("explode", key),
                f"{where}: exploding gradient: layer {layer}, {weight} norm {norm:.3g} "
                f"> {self.explode_norm:g}",
            )
        elif (
            prev is not None
            and prev > 0
            and norm > self.explode_jump * prev
            and norm >= self.explode_jump_floor
        ):
            self._raise(
                ("jump", key),
                f"{where}: exploding gradient: layer {layer}, {weight} norm jumped "
                f"×{norm / prev:.3g} ({prev:.3g} → {norm:.3g})",
            )
        if weight == "recurrent_kernel" and norm < self.vanish_norm:
            self._raise(
                ("vanish", key),
                f"{where}: vanishing gradient: layer {layer}, recurrent kernel norm "
                f"{norm:.3g} < {self.vanish_norm:g}",
            )
