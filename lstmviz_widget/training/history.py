"""Growing series of scalars, grouped by their x axis, returned as numpy arrays."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np


class Recorder:
    """Rows of named scalars in groups that share an x axis (batch, epoch, probe).

    A row is appended whole or not at all. A key that first appears in a later row is
    back-filled with NaN in earlier rows, and a key missing from a row gets NaN, so every
    series of a group has the group's length.
    """

    def __init__(self) -> None:
        self._groups: dict[str, dict[str, list[float]]] = {}
        self._lengths: dict[str, int] = {}

    def append(self, group: str, row: Mapping[str, float]) -> None:
        """Append one row to ``group``.

        Parameters
        ----------
        group : str
            Name of the x axis the row belongs to.
        row : mapping of str to float
            The row's values; non-numeric values are stored as NaN.
        """
        values = {k: _as_float(v) for k, v in row.items()}  # convert first: all or nothing
        series = self._groups.setdefault(group, {})
        n = self._lengths.get(group, 0)
        for key in values:
            if key not in series:
                series[key] = [math.nan] * n
        for key, col in series.items():
            col.append(values.get(key, math.nan))
        self._lengths[group] = n + 1

    def length(self, group: str) -> int:
        """Number of rows in ``group``."""
        return self._lengths.get(group, 0)

    def keys(self, group: str) -> list[str]:
        """Series names of ``group``, in first-seen order."""
        return list(self._groups.get(group, {}))

    def series(self, group: str, key: str) -> np.ndarray:
        """One series as a float64 array (empty when unknown)."""
        return np.asarray(self._groups.get(group, {}).get(key, []), dtype=np.float64)

    def as_dict(self) -> dict[str, np.ndarray]:
        """Every series of every group, keyed by series name."""
        out: dict[str, np.ndarray] = {}
        for series in self._groups.values():
            for key, col in series.items():
                out[key] = np.asarray(col, dtype=np.float64)
        return out


def _as_float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan
