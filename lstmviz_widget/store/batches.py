"""``capture(model, data, store=..., batch_size=...)``: the public ``capture`` batch by batch.

Each batch is captured by the same ``capture`` a single array goes through, appended to a
:class:`~.writer.StoreWriter` and dropped, so peak memory is about one batch's capture (its
working copies included) plus the model, whatever the number of batches.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..data import Capture
from .guard import available_bytes
from .sources import batches_of, n_samples_of
from .writer import StoreWriter, store_path


def _pad_token(tokens: Any) -> str:
    """The label ``capture`` gives padded token ids (id 0) with a vocabulary; else ""."""
    if isinstance(tokens, Mapping):
        return str(tokens.get(0, "0"))
    if isinstance(tokens, (list, tuple)) and tokens and isinstance(tokens[0], str):
        return str(tokens[0])
    return ""


def _captured_bytes(cap: Capture) -> int:
    total = 0
    for lc in cap:
        total += sum(a.nbytes for a in lc._arrays().values())
    return total


def capture_batches(
    capture: Callable[..., Capture],
    model: Any,
    data: Any,
    *,
    mask: Any = None,
    tokens: Any = None,
    y: Any = None,
    gradients: bool = False,
    loss: Any = None,
    store: str | os.PathLike[str] | None = None,
    batch_size: int | None = None,
    overwrite: bool = False,
    progress: bool | None = None,
) -> Capture:
    """Capture ``data`` batch by batch, into the zarr store ``store`` or (None) into memory.

    Returns the opened store (a lazy :class:`~.reader.StoredCapture`), or with ``store=None``
    an in-memory Capture of every batch.
    """
    from .._progress import progress_enabled
    from .reader import open_store

    target: Path | None = None if store is None else store_path(store, overwrite=overwrite)
    n_inputs = max(1, len(getattr(model, "inputs", None) or [None]))
    source = batches_of(
        data, n_inputs=n_inputs, batch_size=batch_size, y=y, mask=mask, tokens=tokens
    )
    from tqdm.auto import tqdm

    bar = tqdm(
        total=source.n_batches,
        desc=f"capture → {target.name}" if target is not None else "capture",
        unit="batch",
        disable=not progress_enabled(progress),
        delay=1.0,  # nothing shown for a capture that takes under a second
        leave=True,
    )
    writer = StoreWriter(target, overwrite=overwrite, pad_token=_pad_token(tokens))
    # batch i is written (compressed, to disk) on a thread while batch i + 1 is captured: at
    # most two batches' captures are alive, and the store costs little more than the capture
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lstmviz-store")
    pending: Future[None] | None = None
    try:
        with writer:
            try:
                for i, batch in enumerate(source.batches):
                    cap = capture(
                        model, batch.x, mask=batch.mask, tokens=batch.tokens, y=batch.y,
                        gradients=gradients, loss=loss, progress=False,
                    )  # fmt: skip
                    if i == 0 and target is None and source.n_batches:
                        _guard_in_memory(cap, source.n_batches, n_samples_of(batch.x, n_inputs))
                    if pending is not None:
                        pending.result()  # the previous batch is on disk (or its error raises)
                        bar.update(1)
                        bar.set_postfix(samples=writer.n, refresh=False)
                    pending = pool.submit(writer.append, cap)
                    del cap
                if pending is not None:
                    pending.result()
                    bar.update(1)
            finally:
                if pending is not None and not pending.done():
                    pending.exception()  # let a running write end before the cleanup
            writer.finish(model)
    finally:
        pool.shutdown(wait=True)
        bar.close()
    if target is not None:
        return open_store(target)
    return open_store(writer.zstore).compute()


def _guard_in_memory(first: Capture, n_batches: int, batch_samples: int) -> None:
    """A batch source captured into RAM: refuse after the first batch when all would not fit."""
    avail = available_bytes()
    need = _captured_bytes(first) * n_batches * 2  # the batches, then the assembled capture
    if avail is not None and need > avail:
        gib = 2**30
        raise MemoryError(
            f"capturing {n_batches} batches of {batch_samples} sequences in memory would need "
            f"about {need / gib:.2f} GiB, but only {avail / gib:.2f} GiB is available. Pass "
            'store="run.zarr" to capture to disk batch by batch (then Capture.open it), or '
            "capture fewer batches."
        )
