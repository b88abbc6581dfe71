"""Read a W&B offline run's ``.wandb`` transaction log back (tests only).

wandb ≥ 0.2x writes the log from its Go core and no longer ships the Python reader, so this
reads the documented container (a 7-byte ``:W&B`` header, then LevelDB log records in 32 KiB
blocks: crc32 (4) · length (2, LE) · type (1: full, 2: first, 3: middle, 4: last)) and parses
each record with wandb's own protobuf ``Record``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BLOCK = 32768
HEADER = 7


def records(path: Path) -> list[Any]:
    from wandb.proto import wandb_internal_pb2 as pb

    data = path.read_bytes()
    assert data[:4] == b":W&B", f"{path} is not a W&B transaction log"
    out, pos, buf = [], HEADER, b""
    while pos + 7 <= len(data):
        left = BLOCK - pos % BLOCK
        if left < 7:  # block trailer: zero padding
            pos += left
            continue
        length = int.from_bytes(data[pos + 4 : pos + 6], "little")
        kind = data[pos + 6]
        if kind == 0 and length == 0:
            pos += left  # padding to the end of a block
            continue
        chunk = data[pos + 7 : pos + 7 + length]
        pos += 7 + length
        buf = chunk if kind in (1, 2) else buf + chunk
        if kind in (1, 4):
            rec = pb.Record()
            rec.ParseFromString(buf)
            out.append(rec)
            buf = b""
    return out


def history(path: Path) -> list[dict[str, Any]]:
    """The rows logged with ``run.log``, values decoded from JSON."""
    rows = []
    for rec in records(path):
        if rec.WhichOneof("record_type") == "history":
            rows.append(
                {
                    (i.key or "/".join(i.nested_key)): json.loads(i.value_json)
                    for i in rec.history.item
                }
            )
    return rows


def finished_log(run_dir: Path, timeout: float = 60.0) -> Path:
    """The run's ``.wandb`` file once its ``exit`` record is written: ``run.finish()`` can
    return before wandb's core process has flushed the log."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        logs = list(run_dir.glob("run-*.wandb"))
        if len(logs) == 1:
            try:
                if any(r.WhichOneof("record_type") == "exit" for r in records(logs[0])):
                    return logs[0]
            except Exception:  # a record still being written
                pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"no finished W&B log in {run_dir} after {timeout} s")
        time.sleep(0.2)
