"""The memory guard of in-RAM captures: estimate the bytes first, refuse what cannot fit.

A capture that does not fit in RAM must not get the kernel killed: ``capture`` calls
:func:`check_capture_memory` after validating its input and before any forward pass, and a
``MemoryError`` names the size and the way out (``store=``, fewer samples). Numpy only; the
model is read through plain attributes (no Keras import).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

#: Bytes per captured float.
_F32 = 4
#: Working memory of ``capture`` over the arrays it returns: per-length groups, their padded
#: copies and the merged arrays coexist for a moment.
WORKING_FACTOR = 2.0
#: Environment variable overriding the available memory (bytes), e.g. for tests.
ENV_LIMIT = "LSTMVIZ_MEMORY_LIMIT"


def _recurrent_cells(layer: Any, seen: set[int]) -> Iterator[Any]:
    if id(layer) in seen:
        return
    seen.add(id(layer))
    for attr in ("forward_layer", "backward_layer"):  # Bidirectional
        sub = getattr(layer, attr, None)
        if sub is not None:
            yield from _recurrent_cells(sub, seen)
    cell = getattr(layer, "cell", None)
    if cell is not None and hasattr(cell, "units"):
        yield cell
    for sub in getattr(layer, "layers", None) or ():  # nested models
        yield from _recurrent_cells(sub, seen)
    inner = getattr(layer, "layer", None)  # TimeDistributed and other wrappers
    if inner is not None and not hasattr(layer, "forward_layer"):
        yield from _recurrent_cells(inner, seen)


def _gates(cell: Any) -> int:
    name = type(cell).__name__
    if "LSTM" in name:
        return 4
    if "GRU" in name:
        return 3
    return 0


def estimate_capture_bytes(model: Any, n_samples: int, n_steps: int, *, gradients: bool) -> int:
    """Bytes of the arrays ``capture`` returns for ``n_samples`` × ``n_steps``, every layer.

    Per recurrent layer and step: h, c (LSTM), the gates and the layer's input features (float32)
    and the mask; with ``gradients`` as many again (∂L/∂h, ∂L/∂c, ∂L/∂gates, ∂L/∂x). Attention
    and predictions are not counted (they are small next to the states of any layer worth
    guarding).
    """
    per_step = 0
    for cell in _recurrent_cells(model, set()):
        units = int(cell.units)
        gates = _gates(cell)
        kernel = getattr(cell, "kernel", None)
        features = int(kernel.shape[0]) if kernel is not None else units
        floats = units * (1 + (1 if gates == 4 else 0) + gates) + features
        per_step += floats * _F32 * (2 if gradients else 1) + 1
    return int(per_step) * int(n_samples) * int(n_steps)


def available_bytes() -> int | None:
    """Memory this process may still use: the smaller of the system's available memory
    (``MemAvailable``) and the cgroup limit's headroom; None when unknown."""
    env = os.environ.get(ENV_LIMIT)
    if env:
        return int(float(env))
    found: list[int] = []
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    found.append(int(line.split()[1]) * 1024)
                    break
    except OSError:
        with contextlib.suppress(ValueError, OSError, AttributeError):
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    ):
        try:
            with open(limit_file) as fh:
                raw = fh.read().strip()
            if raw == "max" or int(raw) >= 1 << 60:
                continue
            with open(usage_file) as fh:
                used = int(fh.read().strip())
            found.append(max(int(raw) - used, 0))
            break
        except (OSError, ValueError):
            continue
    return min(found) if found else None


def _gb(n: float) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**28 else f"{n / 2**20:.1f} MiB"


def check_capture_memory(model: Any, n_samples: int, n_steps: int, *, gradients: bool) -> None:
    """Raise ``MemoryError`` before any work when an in-RAM capture would not fit.

    The need is :func:`estimate_capture_bytes` × :data:`WORKING_FACTOR`; it is compared with
    :func:`available_bytes` (``LSTMVIZ_MEMORY_LIMIT`` overrides it).
    """
    avail = available_bytes()
    if avail is None:
        return
    arrays = estimate_capture_bytes(model, n_samples, n_steps, gradients=gradients)
    need = int(arrays * WORKING_FACTOR)
    if need <= avail:
        return
    fit = max(1, int(n_samples * avail / max(need, 1)))
    raise MemoryError(
        f"capturing {n_samples} sequences × {n_steps} steps in memory would need about "
        f"{_gb(need)} ({_gb(arrays)} of captured arrays"
        f"{' incl. gradients' if gradients else ''}), but only {_gb(avail)} is available. "
        f'Capture to disk batch by batch with store="run.zarr" (and batch_size=...), '
        f"then Capture.open(...) it; or capture fewer samples (about {fit} fit)."
    )
