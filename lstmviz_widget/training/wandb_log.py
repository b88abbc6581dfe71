"""Per-epoch Weights & Biases logging: what the TensorBoard writer writes, to a W&B run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..data import Capture
from .summaries import epoch_summaries


def _wandb() -> Any:
    try:
        import wandb
    except ImportError as exc:
        raise ImportError(
            'LSTMMonitor(wandb=...) needs the wandb package: pip install "lstmviz-widget[wandb]"'
        ) from exc
    return wandb


class WandbWriter:
    """Logs one epoch's gate-weight images, histograms and gradient-norm scalars (the same
    keys as :class:`~lstmviz_widget.training.tensorboard.TensorBoardWriter`, see
    :class:`~lstmviz_widget.training.summaries.EpochSummaries`) plus ``epoch`` and the
    epoch's Keras logs (``epoch/loss``, ``val_loss``, ...) to a W&B run, one ``run.log`` per
    epoch.

    Parameters
    ----------
    run : True or a wandb Run
        ``True``: the active run (``wandb.run``) when training starts; it must exist then
        (call ``wandb.init(...)`` before ``fit``). A run object: that run.
    """

    def __init__(self, run: Any) -> None:
        self._wandb = _wandb()
        if run is not True and not hasattr(run, "log"):
            raise TypeError(
                f"wandb= takes True (the active run) or a wandb run, got {type(run).__name__}"
            )
        self._given = None if run is True else run

    @property
    def run(self) -> Any:
        """The run logged to: the given one, else the active one."""
        run = self._given if self._given is not None else self._wandb.run
        if run is None:
            raise RuntimeError(
                "LSTMMonitor(wandb=True) logs to the active W&B run, and there is none: call "
                "wandb.init(...) before fit, or pass the run: LSTMMonitor(..., wandb=run)"
            )
        return run

    def write(
        self, epoch: int, cap: Capture, stats: Mapping[str, float], logs: Mapping[str, Any]
    ) -> None:
        """Log one epoch."""
        wandb = self._wandb
        summ = epoch_summaries(cap, stats)
        data: dict[str, Any] = {"epoch": int(epoch)}
        for key, value in logs.items():
            if isinstance(value, (int, float, np.floating)):
                data[key if key.startswith("val_") else f"epoch/{key}"] = float(value)
        for key, img in summ.images.items():
            data[key] = wandb.Image(np.round(img * 255).astype(np.uint8), mode="L")
        for key, values in summ.histograms.items():
            finite = values[np.isfinite(values)]
            if finite.size:
                data[key] = wandb.Histogram(finite)
        data.update(summ.scalars)
        self.run.log(data)
