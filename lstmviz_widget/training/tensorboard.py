"""Per-epoch TensorBoard summaries of the recurrent layers (TensorFlow imported here)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import tensorflow as tf

from ..data import Capture
from .summaries import epoch_summaries


class TensorBoardWriter:
    """Writes one epoch's images, histograms and scalars with ``tf.summary``.

    Parameters
    ----------
    logdir : path-like
        Directory of the event files (created when missing).

    Notes
    -----
    Tags, per layer ``<L>`` and gate ``<g>``:

    - images ``<L>/<g>/kernel`` and ``<L>/<g>/recurrent_kernel``: the gate's weight matrix
      (rows = inputs, columns = units) min–max normalised to [0, 1], shape [1, H, W, 1];
    - histograms ``<L>/<g>/bias`` and ``<L>/<g>/activation`` (gate activations on the probe
      sequences, valid steps only);
    - scalars: every ``grad_norm/...`` entry of the probe's stats, under the same name.
    """

    def __init__(self, logdir: str | os.PathLike[str]) -> None:
        try:
            import tensorboard  # noqa: F401  (tf.summary needs it for images and histograms)
        except ImportError as exc:
            raise ImportError(
                "tensorboard_dir= needs the tensorboard package: pip install tensorboard"
            ) from exc
        self.logdir = os.fspath(logdir)
        self._writer: Any = None

    def write(self, epoch: int, cap: Capture, stats: Mapping[str, float]) -> None:
        """Write the summaries of one epoch.

        Parameters
        ----------
        epoch : int
            The step of every summary.
        cap : Capture
            The epoch-end capture of the probe sequences (weights and gates are read from it).
        stats : mapping of str to float
            The same capture's :func:`~lstmviz_widget.training.probe_stats`.
        """
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.logdir)
        summ = epoch_summaries(cap, stats)
        with self._writer.as_default(step=int(epoch)):
            for key, img in summ.images.items():
                tf.summary.image(key, img[None, :, :, None])
            for key, values in summ.histograms.items():
                tf.summary.histogram(key, values)
            for key, value in summ.scalars.items():
                tf.summary.scalar(key, value)
        self._writer.flush()

    def close(self) -> None:
        """Flush and close the event file."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
