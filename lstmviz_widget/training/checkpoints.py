"""Checkpoints tied to the monitor's alerts: the model, the probe capture and the alert text,
saved together and atomically when an alert of a chosen kind fires."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .._files import _umask
from ..data import Capture

#: Alert kinds a checkpoint can be tied to (``AlertRules.kinds``).
KINDS = ("nan", "exploding", "vanishing", "saturation", "collapse")
#: The default of ``LSTMMonitor(checkpoint_on=...)``.
DEFAULT_KINDS = ("nan", "exploding", "vanishing", "saturation")
#: Files of one checkpoint set.
MODEL_FILE, CAPTURE_FILE, ALERT_FILE = "model.keras", "probe.npz", "alert.txt"


def check_kinds(kinds: Iterable[str]) -> tuple[str, ...]:
    """``kinds`` as a tuple, each one of :data:`KINDS` (``ValueError`` naming them)."""
    if isinstance(kinds, str):
        kinds = (kinds,)
    out = tuple(str(k) for k in kinds)
    bad = [k for k in out if k not in KINDS]
    if bad or not out:
        raise ValueError(f"checkpoint_on takes alert kinds among {list(KINDS)}, got {list(out)}")
    return out


class Checkpointer:
    """Saves one set per alert moment: ``<dir>/epoch<E>-batch<S>-<kinds>/`` holding
    ``model.keras`` (``model.save``), ``probe.npz`` (``Capture.save``) and ``alert.txt``.

    E is the 0-based epoch, S the 1-based batch step counted over the run (the monitor's
    ``batch_step``); ``<kinds>`` joins the kinds that fired (``nan+exploding``). The set is
    built in a hidden temporary folder beside it and renamed into place, so a set is there
    whole or not at all. At most one set per alert kind per epoch.
    """

    def __init__(self, directory: str | os.PathLike[str], kinds: Sequence[str]) -> None:
        self.directory = Path(directory)
        self.kinds = check_kinds(kinds)
        self._done: set[tuple[str, int]] = set()

    def wanted(self, kinds: Iterable[str], epoch: int) -> list[str]:
        """Of ``kinds`` (new alerts), those that get a set now, sorted and unique."""
        return sorted({k for k in kinds if k in self.kinds and (k, epoch) not in self._done})

    def save(
        self,
        model: Any,
        cap: Capture,
        alerts: Sequence[str],
        kinds: Sequence[str],
        *,
        epoch: int,
        step: int,
    ) -> Path:
        """Write one set for ``kinds`` (from :meth:`wanted`) and the ``alerts`` that fired."""
        name = f"epoch{epoch:03d}-batch{step:06d}-{'+'.join(kinds)}"
        final = self.directory / name
        if final.exists():
            raise FileExistsError(f"{final} exists: use a new checkpoint_dir for a new run")
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=self.directory))
        try:
            model.save(tmp / MODEL_FILE)
            cap.save(tmp / CAPTURE_FILE, progress=False)
            text = "".join(f"{a}\n" for a in alerts)
            (tmp / ALERT_FILE).write_text(
                f"epoch {epoch}, batch step {step}: {', '.join(kinds)}\n{text}", encoding="utf-8"
            )
            os.chmod(tmp, 0o777 & ~_umask())
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self._done.update((k, epoch) for k in kinds)
        return final
