"""Writing a file atomically: a reader sees the old file or the new one, never half of one.

Plans (`plan --out`), imported user-groups.yaml (`import --write`), patron-load histories
and apply journals are all written this way: a temp file in the same folder, flushed and
fsynced, then renamed over the target with os.replace, then the folder fsynced so that the
rename itself survives a crash.

Why at the package root: every layer that writes a file needs it (cli, planning,
patron_loads and apply), and it depends on nothing of ours, so it sits in the layers just
above `errors`, below everything that writes.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

NEW_FILE_MODE = 0o644  # like a file made by an editor or git: the owner writes, all read


PRIVATE_FILE_MODE = 0o600  # for the one output that names people (affected users)


def atomic_write(path: Path, text: str, *, new_file_mode: int = NEW_FILE_MODE) -> None:
    """Replace `path` with `text` (UTF-8); a replaced file keeps its mode.

    Raises OSError (a missing folder, no permission, a full disk) with nothing changed.
    """
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = new_file_mode
    # in the same folder, so os.replace is a rename within one file system
    try:
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, before the rename
            "w",
            encoding="utf-8",
            dir=path.parent,
            prefix=f".{path.name}.",
            suffix=".tmp",
            delete=False,
        )
    except OSError as error:  # name the file asked for, not our temp file
        raise OSError(error.errno, error.strerror, str(path)) from error
    temp = Path(handle.name)
    try:
        with handle:
            handle.write(text)
            handle.flush()
            os.fchmod(handle.fileno(), mode)  # NamedTemporaryFile makes it 0600
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable; not every platform can open a folder, so best effort."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
