"""Read files that someone else wrote (a fork's pull request, an operator's download) safely.

Design decision: every file the tool reads from the repository goes through `read_bounded`,
which refuses instead of following: a symbolic link that leads outside the folder it must stay
in (a pull request can link `user-groups.yaml` to `/etc/passwd` or a runner's secrets, and the
error would print the target's text), anything that is not a regular file (`/dev/zero` ends in
a MemoryError, a FIFO blocks forever), and a file larger than the caller's limit (checked on the
open descriptor before reading, and again while reading, because a file can grow). The open is
non-blocking, so even a FIFO swapped in after the check cannot hang the run. Refusals raise
`UnsafeFileError` with a reason that never quotes the file's content.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_CHUNK = 1 << 16


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
