"""Atomic writes and a save-dir lock: an interrupted process never leaves a half-written file."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from nmtkit.errors import UsageError


def fsync_dir(path: Path) -> None:
    """Persist a rename: the directory entry itself must reach the disk."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def _temp_beside(path: Path) -> Iterator[Path]:
    """A temp file in `path`'s directory; on success fsynced and renamed over `path`.

    A crash at any point leaves either the old file or the new one, never a mix.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_with(path: str | Path, writer: Callable[[Path], None]) -> None:
    """Let `writer` fill a temp file beside `path`, then fsync and rename it over `path`."""
    with _temp_beside(Path(path)) as tmp:
        writer(tmp)


@contextlib.contextmanager
def atomic_open(
    path: str | Path, mode: str = "w", encoding: str | None = "utf-8"
) -> Iterator[IO]:
    """`open()` for writing whose result appears only if the block completes."""
    with _temp_beside(Path(path)) as tmp, open(
        tmp, mode, encoding=None if "b" in mode else encoding
    ) as f:
        yield f


@contextlib.contextmanager
def atomic_dir(path: str | Path, *, force: bool = False) -> Iterator[Path]:
    """Build a directory under a temporary name and rename it into place at the end.

    An existing non-empty `path` is refused unless `force`; then it is replaced only once the
    new directory is complete.
    """
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())) and not force:
        raise UsageError(
            "output directory exists and is not empty", file=path, fix="pass --force to replace it"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        yield tmp
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


class DirLock:
    """An advisory exclusive lock on a directory (fcntl), released when the process dies."""

    def __init__(self, directory: str | Path, name: str = ".lock") -> None:
        self.path = Path(directory) / name
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise UsageError(
                "another nmtkit process is using this directory",
                file=self.path.parent,
                fix="wait for it to finish or choose another --save-dir",
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> DirLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
