"""``LSTMMonitor``: a Keras callback that records how recurrent layers train."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from .._files import npz_path, write_npz
from .._progress import progress as progress_iter
from ..analysis import state_collapse
from ..data import Capture
from .alerts import AlertRules
from .checkpoints import DEFAULT_KINDS, Checkpointer, check_kinds
from .history import Recorder
from .stats import probe_stats

#: Format of the ``.npz`` written by :meth:`LSTMMonitor.save`.
FORMAT_VERSION = 1
#: At most this many monitor errors are kept (the first ones, which explain the rest).
MAX_ERRORS = 100


class LSTMMonitor(keras.callbacks.Callback):
    """Watch every recurrent layer of a model while it trains, live and on record.

    Every ``every_n_batches`` batches and at each epoch end the probe sequences are captured
    (:func:`lstmviz_widget.probe.capture`) and their gradient norms, gate saturation and
    hidden-state variance recorded; train loss and metrics are recorded at every batch, and
    validation metrics at every epoch end. Displaying the monitor shows a bqplot dashboard
    that updates during ``fit``.

    The callback never raises into ``fit``: its own failures are recorded in :attr:`errors`.
    A ``KeyboardInterrupt`` propagates as Keras lets it, and what was recorded stays.

    Parameters
    ----------
    probe_seq : array-like
        A few sequences to capture, in any form :func:`~lstmviz_widget.probe.capture` takes
        (e.g. ``x_val[:4]``). Keep it small: it is captured at every probe.
    every_n_batches : int or None
        Probe every this many training batches (counted over the whole run), besides every
        epoch end; None probes at epoch ends only. The default keeps the cost of the monitor
        to a few percent of ``fit`` (see ``bench/monitor.py``).
    tensorboard_dir : path-like, optional
        Also write per-epoch TensorBoard summaries there (see
        :class:`~lstmviz_widget.training.tensorboard.TensorBoardWriter`).
    probe_y : array-like, optional
        Targets of ``probe_seq``. With them every probe also records weight-gradient norms;
        without them there are none (the dashboard says so).
    snapshot_every : int
        Keep the epoch-end capture of every this many epochs in :attr:`snapshots`.
    loss : None, str, callable or int
        The loss of the gradients (see ``capture``); None for the model's compiled loss.
    rules : AlertRules, optional
        Alert thresholds; defaults to ``AlertRules()``.
    wandb : True or a wandb run, optional
        Also log every epoch to Weights & Biases: the TensorBoard writer's gate-weight images,
        histograms and gradient-norm scalars, plus ``epoch`` and the epoch's logs
        (:class:`~lstmviz_widget.training.wandb_log.WandbWriter`). ``True`` logs to the run
        active when ``fit`` starts (``wandb.init`` first; none raises ``RuntimeError`` before
        the first step). Needs ``pip install "lstmviz-widget[wandb]"``.
    checkpoint_dir : path-like, optional
        When an alert of a kind in ``checkpoint_on`` fires, save the model (``.keras``), the
        probe sequences' capture and the alert text there, together and atomically, named by
        epoch and batch (:class:`~lstmviz_widget.training.checkpoints.Checkpointer`); at most
        one set per alert kind per epoch. Saving never changes the training.
    checkpoint_on : sequence of str
        Alert kinds that save a checkpoint: ``"nan"`` (NaN/Inf loss or gradient),
        ``"exploding"``, ``"vanishing"``, ``"saturation"``, ``"collapse"``.

    Attributes
    ----------
    snapshots : list of (int, Capture)
        Epoch (0-based, as Keras counts) and the capture of the probe sequences at its end.
    errors : list of str
        The monitor's own failures (the training was not affected).
    rules : AlertRules
        Thresholds and the alerts raised.
    checkpoints : list of Path
        The checkpoint sets written, oldest first.
    """

    def __init__(
        self,
        probe_seq: Any,
        every_n_batches: int | None = 200,
        tensorboard_dir: str | os.PathLike[str] | None = None,
        probe_y: Any = None,
        *,
        snapshot_every: int = 1,
        loss: Any = None,
        rules: AlertRules | None = None,
        wandb: Any = None,
        checkpoint_dir: str | os.PathLike[str] | None = None,
        checkpoint_on: Sequence[str] = DEFAULT_KINDS,
    ) -> None:
        super().__init__()
        if every_n_batches is not None and int(every_n_batches) < 1:
            raise ValueError(f"every_n_batches must be ≥ 1 or None, got {every_n_batches!r}")
        if int(snapshot_every) < 1:
            raise ValueError(f"snapshot_every must be ≥ 1, got {snapshot_every!r}")
        self.probe_seq = probe_seq
        self.probe_y = None if probe_y is None else np.asarray(probe_y)
        self.every_n_batches = None if every_n_batches is None else int(every_n_batches)
        self.snapshot_every = int(snapshot_every)
        self.loss = loss
        self.rules = rules if rules is not None else AlertRules()
        self.snapshots: list[tuple[int, Capture]] = []
        self.errors: list[str] = []
        self._rec = Recorder()
        self._step = 0
        self._epoch = 0
        self._dashboard: Any = None
        self._tb: Any = None
        if tensorboard_dir is not None:
            from .tensorboard import TensorBoardWriter

            self._tb = TensorBoardWriter(tensorboard_dir)
        self._wandb: Any = None
        if wandb is not None and wandb is not False:
            from .wandb_log import WandbWriter

            self._wandb = WandbWriter(wandb)
        kinds = check_kinds(checkpoint_on)
        self._ckpt = None if checkpoint_dir is None else Checkpointer(checkpoint_dir, kinds)
        self.checkpoints: list[Path] = []

    # -- what was recorded ----------------------------------------------------
    @property
    def history(self) -> dict[str, np.ndarray]:
        """Everything recorded, as float64 numpy arrays keyed by series name.

        Per batch: ``batch_step`` (1-based, counted over the run), ``batch_epoch`` and every
        key of Keras's batch logs (``loss``, metrics: running means over the epoch, as Keras
        reports them). Per epoch: ``epoch``, ``epoch_step`` (the batch step it ended at),
        ``epoch/<key>`` for the training logs and ``val_<key>`` for validation. Per probe:
        ``probe_step``, ``probe_epoch``, ``probe_epoch_end`` (1.0 for epoch-end probes) and
        the entries of :func:`~lstmviz_widget.training.probe_stats`
        (``grad_norm/<layer>/<weight>``, ``grad_norm/<layer>/<gate>/<weight>``,
        ``saturation/<layer>/<gate>``, ``hidden_var/<layer>``).
        """
        return self._rec.as_dict()

    @property
    def alerts(self) -> list[str]:
        """Alerts raised so far (NaN loss, exploding/vanishing gradients, saturated gates,
        collapsed hidden state), oldest first."""
        return list(self.rules.alerts)

    @property
    def recorder(self) -> Recorder:
        """The :class:`Recorder` behind :attr:`history` (series grouped by x axis)."""
        return self._rec

    # -- dashboard --------------------------------------------------------------
    @property
    def dashboard(self) -> Any:
        """The live :class:`~lstmviz_widget.training.dashboard.Dashboard` (built on first use)."""
        if self._dashboard is None:
            from .dashboard import Dashboard

            self._dashboard = Dashboard(gradients=self.probe_y is not None)
            self._dashboard.update(self._rec, self.rules.alerts, self.errors)
        return self._dashboard

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.dashboard.widget._repr_mimebundle_(**kwargs)

    def _redraw(self) -> None:
        if self._dashboard is not None:
            self._dashboard.update(self._rec, self.rules.alerts, self.errors)

    # -- Keras hooks --------------------------------------------------------------
    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        """Find the W&B run (``wandb=True``): a missing run stops ``fit`` before any step."""
        if self._wandb is not None:
            self._wandb.run  # noqa: B018  (raises RuntimeError naming the fix)

    def on_epoch_begin(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        """Note the epoch number."""
        self._epoch = int(epoch)

    def on_train_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        """Record the batch's logs; probe every ``every_n_batches`` batches."""
        self._step += 1
        self._guard(self._batch_end, dict(logs or {}))

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        """Record the epoch's logs, probe, keep a snapshot, write TensorBoard summaries."""
        self._epoch = int(epoch)
        self._guard(self._epoch_end, int(epoch), dict(logs or {}))

    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        """Flush the TensorBoard writer and redraw."""
        self._guard(self._train_end)

    # -- the work -------------------------------------------------------------
    def _guard(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except Exception as exc:  # never into fit
            if len(self.errors) < MAX_ERRORS:
                self.errors.append(
                    f"step {self._step} ({fn.__name__.strip('_')}): {type(exc).__name__}: {exc}"
                )
            return None

    def _batch_end(self, logs: dict[str, Any]) -> None:
        n_alerts = len(self.rules.alerts)
        self._rec.append("batch", {"batch_step": self._step, "batch_epoch": self._epoch, **logs})
        self.rules.check_logs(f"epoch {self._epoch}, step {self._step}", logs)
        n = self.every_n_batches
        probed = None
        if n is not None and self._step % n == 0:
            probed = self._guard(self._probe, False)
            self._redraw()
        self._guard(self._checkpoint, n_alerts, None if probed is None else probed[0])

    def _epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        row: dict[str, Any] = {"epoch": epoch, "epoch_step": self._step}
        for key, value in logs.items():
            row[key if key.startswith("val_") else f"epoch/{key}"] = value
        self._rec.append("epoch", row)
        n_alerts = len(self.rules.alerts)
        self.rules.check_logs(f"epoch {epoch}", logs)
        cap = None
        try:
            cap, stats = self._probe(True)
            if (epoch + 1) % self.snapshot_every == 0:
                self.snapshots.append((epoch, cap))
            if self._tb is not None:
                self._tb.write(epoch, cap, stats)
            if self._wandb is not None:
                self._wandb.write(epoch, cap, stats, logs)
        finally:
            self._guard(self._checkpoint, n_alerts, cap)
            self._redraw()

    def _checkpoint(self, n_alerts: int, cap: Capture | None) -> None:
        """Save a checkpoint set when alerts raised since ``n_alerts`` ask for one."""
        if self._ckpt is None:
            return
        kinds = self.rules.kinds[n_alerts:]
        wanted = self._ckpt.wanted(kinds, self._epoch)
        if not wanted:
            return
        if cap is None:  # a batch-end alert between probes: capture the probe sequences now
            from ..probe.capture import capture

            grads = self.probe_y is not None
            cap = capture(
                self.model, self.probe_seq, y=self.probe_y, gradients=grads, loss=self.loss
            )
        alerts = [
            a for a, k in zip(self.rules.alerts[n_alerts:], kinds, strict=True) if k in wanted
        ]
        path = self._ckpt.save(self.model, cap, alerts, wanted, epoch=self._epoch, step=self._step)
        self.checkpoints.append(path)

    def _train_end(self) -> None:
        if self._tb is not None:
            self._tb.close()
        self._redraw()

    def _probe(self, epoch_end: bool) -> tuple[Capture, dict[str, float]]:
        from ..probe.capture import capture

        grads = self.probe_y is not None
        cap = capture(self.model, self.probe_seq, y=self.probe_y, gradients=grads, loss=self.loss)
        stats = probe_stats(cap)
        collapsed = {lc.name: state_collapse(lc).collapsed for lc in cap}
        self._rec.append(
            "probe",
            {
                "probe_step": self._step,
                "probe_epoch": self._epoch,
                "probe_epoch_end": float(epoch_end),
                **stats,
            },
        )
        self.rules.check_probe(f"epoch {self._epoch}, step {self._step}", stats, collapsed)
        return cap, stats

    # -- persistence ------------------------------------------------------------
    def explorer(self, **kwargs: Any) -> Any:
        """An :class:`~lstmviz_widget.LSTMExplorer` over the epoch snapshots of the probe
        sequences: an epoch slider scrubs across training as the cursor scrubs across time.

        ``kwargs`` go to :meth:`LSTMExplorer.from_snapshots` (``epoch``, ``timestep``, …).
        """
        from ..widget.explorer import LSTMExplorer

        return LSTMExplorer.from_snapshots(self.snapshots, **kwargs)

    def save_snapshots(
        self,
        directory: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        progress: bool | None = None,
    ) -> list[Path]:
        """Write every snapshot to ``<directory>/epoch<E>.npz`` (``Capture.save``: whole or
        not at all), with a progress bar when it takes over a second. Read one back with
        ``Capture.load``; ``LSTMExplorer.from_snapshots`` takes ``[(E, capture), ...]``.

        Returns
        -------
        list of Path
            The files, in snapshot order.
        """
        out = []
        folder = Path(directory)
        for epoch, cap in progress_iter(
            self.snapshots, desc="saving snapshots", total=len(self.snapshots), enabled=progress
        ):
            out.append(
                cap.save(folder / f"epoch{epoch:03d}.npz", overwrite=overwrite, progress=False)
            )
        return out

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write :attr:`history`, :attr:`alerts` and :attr:`errors` to one ``.npz``.

        The file is written to a temporary name and renamed, so it appears whole or not at
        all. Read it back with ``np.load``: one array per history key, plus ``meta`` (a JSON
        string with ``alerts``, ``errors``, ``every_n_batches``, ``format``). Snapshots are
        not included; save them with ``Capture.save``.

        Parameters
        ----------
        path : path-like
            Destination; ``.npz`` is appended when missing.
        overwrite : bool
            Replace an existing file. Without it an existing file raises ``FileExistsError``.

        Returns
        -------
        Path
            Where the file was written.
        """
        path = npz_path(path, overwrite=overwrite)
        meta = {
            "format": FORMAT_VERSION,
            "alerts": self.alerts,
            "errors": list(self.errors),
            "every_n_batches": self.every_n_batches,
        }
        arrays = {"meta": np.array(json.dumps(meta)), **self.history}
        return write_npz(path, arrays)
