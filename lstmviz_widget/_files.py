"""Writing files whole or not at all, never silently replacing one."""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ._progress import progress_bar


def npz_path(path: str | os.PathLike[str], *, overwrite: bool) -> Path:
    """``path`` with ``.npz`` appended when missing; refuses an existing file unless
    ``overwrite`` (``FileExistsError`` naming the fix)."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    return path


def write_npz(
    path: Path, arrays: Mapping[str, np.ndarray], *, progress: bool | None = None
) -> Path:
    """Write ``arrays`` compressed to a temp file beside ``path``, then rename it into place:
    a reader never sees a partial file, and a failure leaves no temp file behind.

    The file is what ``np.savez_compressed`` writes (one ``<name>.npy`` per array in a
    deflated zip), array by array, so a big save shows a progress bar in bytes
    (``progress``: see :mod:`lstmviz_widget._progress`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    values = {k: np.asanyarray(v) for k, v in arrays.items()}
    total = sum(int(v.nbytes) for v in values.values())
    try:
        with (
            os.fdopen(fd, "wb") as fh,
            zipfile.ZipFile(fh, mode="w", compression=zipfile.ZIP_DEFLATED) as zf,
            progress_bar(
                desc=f"saving {path.name}", total=total, unit="B", enabled=progress
            ) as bar,
        ):
            for key, value in values.items():
                with zf.open(f"{key}.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, value, allow_pickle=False)
                bar.update(int(value.nbytes))
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


def not_an_npz(path: str | os.PathLike[str]) -> str | None:
    """None when ``path`` starts like an .npz (zip) archive; otherwise what it holds, in words.

    Reads the first bytes only (``FileNotFoundError`` when there is no such file).
    """
    with open(path, "rb") as fh:
        head = fh.read(64)
    if head.startswith(b"PK"):
        return None
    if not head:
        return "an empty file"
    if head.startswith(b"\x93NUMPY"):
        return "one .npy array, not an .npz archive"
    if head[:1] == b"\x80":
        return "a Python pickle"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return f"binary data starting {head[:8]!r}"
    first = text.splitlines()[0] if text.strip() else text
    return f"text starting {first[:40]!r}"


def npz_contents(npz: Any, limit: int = 6) -> str:
    """The entries of an open ``np.load`` archive as ``name (dtype, shape)``, read from their
    headers only; object arrays are named as pickled Python objects."""
    names = list(npz.files)
    members = set(npz.zip.namelist())
    parts = []
    for name in names[:limit]:
        member = f"{name}.npy" if f"{name}.npy" in members else name
        try:
            with npz.zip.open(member) as fp:
                version = np.lib.format.read_magic(fp)
                read = (
                    np.lib.format.read_array_header_1_0
                    if version == (1, 0)
                    else np.lib.format.read_array_header_2_0
                )
                shape, _, dtype = read(fp)
        except (OSError, ValueError, KeyError):
            parts.append(f"{name!r} (not a numpy array)")
            continue
        kind = "pickled Python objects" if dtype.hasobject else str(dtype)
        parts.append(f"{name!r} ({kind}, shape {tuple(shape)})")
    if len(names) > limit:
        parts.append(f"and {len(names) - limit} more")
    return ", ".join(parts) if parts else "no arrays"


def json_meta(npz: Any, keys: tuple[str, ...], refused: str, hint: str) -> dict[str, Any]:
    """The JSON object in the ``meta`` entry of an open ``np.load`` archive, holding ``keys``.

    Anything else raises one ``ValueError``: ``refused``, what the archive holds, ``hint``.
    """

    def refuse(why: str) -> ValueError:
        return ValueError(f"{refused}: {why}. {hint}")

    if "meta" not in npz.files:
        raise refuse(f"it is an .npz archive of {npz_contents(npz)}, without a 'meta' entry")
    try:
        raw = npz["meta"]
    except ValueError as exc:  # allow_pickle=False refused an object array
        raise refuse(
            f"its 'meta' entry holds pickled Python objects ({npz_contents(npz)})"
        ) from exc
    if raw.ndim != 0 or raw.dtype.kind != "U":
        raise refuse(f"its 'meta' entry is a {raw.dtype} array of shape {raw.shape}, not JSON text")
    try:
        meta = json.loads(str(raw))
    except json.JSONDecodeError as exc:
        raise refuse(f"its 'meta' entry is not JSON ({exc})") from exc
    if not isinstance(meta, dict) or not set(keys) <= meta.keys():
        raise refuse(f"its 'meta' entry is JSON without the keys {list(keys)}")
    return meta
