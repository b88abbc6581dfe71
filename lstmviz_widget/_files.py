"""Writing files whole or not at all, never silently replacing one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np


def npz_path(path: str | os.PathLike[str], *, overwrite: bool) -> Path:
    """``path`` with ``.npz`` appended when missing; refuses an existing file unless
    ``overwrite`` (``FileExistsError`` naming the fix)."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    return path


def write_npz(path: Path, arrays: Mapping[str, np.ndarray]) -> Path:
    """Write ``arrays`` compressed to a temp file beside ``path``, then rename it into place:
    a reader never sees a partial file, and a failure leaves no temp file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            # (typed as Any: numpy's stub fears a key named "allow_pickle")
            named: dict[str, Any] = dict(arrays)
            np.savez_compressed(fh, **named)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def refuse_existing(path: str | os.PathLike[str], *, overwrite: bool) -> Path:
    """``path`` as a Path; ``FileExistsError`` naming the fix if it exists and not ``overwrite``."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    return path


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes, *, overwrite: bool) -> Path:
    """Write ``data`` to ``path`` whole or not at all: a temp file beside it, renamed into
    place. An existing file is replaced only with ``overwrite=True`` (else ``FileExistsError``);
    a failure leaves neither a partial file nor a temp file behind. The new file gets the
    usual permissions (0o666 less the umask), not the temp file's 0o600."""
    path = refuse_existing(path, overwrite=overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    """The process umask (read from /proc where possible: setting it to read it is racy)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
