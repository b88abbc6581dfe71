"""Whole data sets: capture batch by batch into a chunked zarr store, open it lazily as dask.

- :mod:`.sources` — the batches of whatever ``capture`` was given (arrays, ragged lists,
  generators, ``tf.data.Dataset``, ``keras.utils.PyDataset``), without importing Keras.
- :mod:`.guard` — the memory guard of in-RAM captures (numpy only).
- :mod:`.writer` — Captures appended to a zarr (v3) store, written whole or not at all.
- :mod:`.reader` — ``Capture.open``: a :class:`~.reader.StoredCapture` of dask arrays.
- :mod:`.batches` — ``capture(..., store=..., batch_size=...)``: the batch loop.

zarr and dask are the ``[store]`` extra (``pip install "lstmviz-widget[store]"``);
:func:`require` raises one clear ``ImportError`` when they are missing.
"""

from __future__ import annotations

from typing import Any


def require() -> tuple[Any, Any]:
    """``(zarr, dask.array)``, or an ``ImportError`` saying how to install them."""
    try:
        import dask.array as da
        import zarr
    except ImportError as err:
        raise ImportError(
            f"capturing to or opening a store needs zarr (v3) and dask ({err.name} is missing): "
            'pip install "lstmviz-widget[store]"'
        ) from None
    if int(zarr.__version__.split(".")[0]) < 3:
        raise ImportError(
            f"lstmviz-widget stores need zarr>=3, found zarr {zarr.__version__}: "
            'pip install "lstmviz-widget[store]"'
        )
    return zarr, da
