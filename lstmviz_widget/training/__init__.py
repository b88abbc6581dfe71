"""Training monitor: a Keras callback that watches recurrent layers while a model trains.

- :mod:`.monitor` — :class:`LSTMMonitor`, the callback (Keras imported here).
- :mod:`.history` — :class:`Recorder`, the growing series behind ``monitor.history``.
- :mod:`.stats` — gradient norms, gate saturation and state variance of one capture (numpy).
- :mod:`.alerts` — :class:`AlertRules`: NaN loss, exploding/vanishing gradients, saturation,
  collapse.
- :mod:`.dashboard` — the live bqplot dashboard.
- :mod:`.tensorboard` — per-epoch TensorBoard summaries (TensorFlow imported here).
- :mod:`.wandb_log` — the same summaries to a Weights & Biases run (``wandb=``).
- :mod:`.summaries` — what one epoch's summaries hold (numpy), shared by both writers.
- :mod:`.checkpoints` — model + probe capture + alert text saved on alerts (``checkpoint_dir=``).
"""

from __future__ import annotations

from .alerts import AlertRules
from .history import Recorder
from .monitor import LSTMMonitor
from .stats import probe_stats

__all__ = ["AlertRules", "LSTMMonitor", "Recorder", "probe_stats"]
