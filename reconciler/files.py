"""Files in and out: atomic writes, and safe reads of files that someone else wrote.

Writing: plans (`plan --out`), imported user-groups.yaml (`import --write`), patron-load
histories and apply journals are all written atomically: a temp file in the same folder,
flushed and fsynced, then renamed over the target with os.replace, then the folder fsynced so
that the rename itself survives a crash. A reader sees the old file or the new one, never half.

Reading: every file the tool reads from the repository (a fork's pull request, an operator's
download) goes through `read_bounded`, which refuses instead of following: a symbolic link that
leads outside the folder it must stay in (a pull request can link `user-groups.yaml` to
`/etc/passwd` or a runner's secrets, and the error would print the target's text), anything
that is not a regular file (`/dev/zero` ends in a MemoryError, a FIFO blocks forever), and a
file larger than the caller's limit (checked on the open descriptor before reading, and again
while reading, because a file can grow). The open is non-blocking, so even a FIFO swapped in
after the check cannot hang the run. Refusals raise `UnsafeFileError` with a reason that never
quotes the file's content.

Why at the package root: every layer that reads or writes a file needs it, and it depends on
nothing of ours, so it sits in the layers just above `errors`.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

_CHUNK = 1 << 16

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


class UnsafeFileError(Exception):
    """The file was not read: `reason` says why, in words fit for a one-line error."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_bounded(path: Path, *, limit: int, within: Path | None = None) -> bytes:
    """The bytes of regular file `path`, at most `limit` of them, only if it lies `within`."""
    try:
        real = path.resolve(strict=True)
    except FileNotFoundError:
        raise
    except (OSError, RuntimeError) as error:  # a symlink loop (RuntimeError before 3.13)
        raise UnsafeFileError(f"cannot read file: {_why(error)}") from error
    if within is not None and not real.is_relative_to(within.resolve()):
        raise UnsafeFileError(
            "is a symbolic link to a file outside the institutions folder; refusing to read it"
        )
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        descriptor = os.open(real, flags | getattr(os, "O_NOFOLLOW", 0))
    except OSError as error:
        raise UnsafeFileError(f"cannot read file: {_why(error)}") from error
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFileError(
                "is not a regular file (a device, pipe or socket); refusing to read it"
            )
        if info.st_size > limit:
            raise UnsafeFileError(too_large(info.st_size, limit))
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(descriptor, _CHUNK):
            size += len(chunk)
            if size > limit:
                raise UnsafeFileError(too_large(size, limit, growing=True))
            chunks.append(chunk)
    except OSError as error:
        raise UnsafeFileError(f"cannot read file: {_why(error)}") from error
    finally:
        os.close(descriptor)
    return b"".join(chunks)


def too_large(size: int, limit: int, *, growing: bool = False) -> str:
    """The one wording of "too large" for every reader."""
    more = "more than " if growing else ""
    return f"file is {more}{size:,} bytes; the limit is {limit:,}"


def _why(error: BaseException) -> str:
    return getattr(error, "strerror", None) or str(error) or type(error).__name__
