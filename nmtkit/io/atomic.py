"""Atomic writes and a save-dir lock: an interrupted process never leaves a half-written file."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import resource
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


TEMP_SUFFIX = ".tmp"
DISK_FULL = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})
# safetensors reports a Rust io::Error as text: "... (os error 27)" or "Os { code: 27, ..."
_RUST_IO_CODE = re.compile(r"\b(?:os error |code: )(\d+)")


def disk_full_errno(exc: BaseException) -> int | None:
    """ENOSPC/EFBIG/EDQUOT behind a failed write (an OSError, or a library's error text)."""
    if isinstance(exc, OSError):
        return exc.errno if exc.errno in DISK_FULL else None
    if isinstance(exc, Exception) and (m := _RUST_IO_CODE.search(str(exc))):
        code = int(m.group(1))
        return code if code in DISK_FULL else None
    return None


def full_file(where: Path) -> tuple[Path, int] | None:
    """After a failed write of file or directory `where`: a file that reached the file size
    limit (EFBIG), else the newest file if the filesystem is full (ENOSPC); None if neither."""
    files = [p for p in where.rglob("*") if p.is_file()] if where.is_dir() else [where]
    files = [p for p in files if p.exists()]
    if not files:
        return None
    limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    at_limit = [p for p in files if limit != resource.RLIM_INFINITY and p.stat().st_size >= limit]
    if at_limit:
        return at_limit[0], errno.EFBIG
    vfs = os.statvfs(files[0].parent)
    if vfs.f_bavail * vfs.f_frsize < 1 << 16:  # less than 64 KiB left
        return max(files, key=lambda p: p.stat().st_mtime), errno.ENOSPC
    return None


def disk_full(path: str | Path, code: int) -> UsageError:
    return UsageError(
        f"cannot write: {os.strerror(code)}",
        file=path,
        fix="free disk space (or raise the file size limit) and run again; earlier files are kept",
    )


def is_temp_file(name: str) -> bool:
    """A name made by _temp_beside/atomic_dir: `.{target}.{random}.tmp`."""
    return name.startswith(".") and name.endswith(TEMP_SUFFIX) and name.count(".") >= 3


@contextlib.contextmanager
def _temp_beside(path: Path) -> Iterator[Path]:
    """A temp file in `path`'s directory; on success fsynced and renamed over `path`.

    A crash at any point leaves either the old file or the new one, never a mix.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException as exc:
        full = full_file(tmp) if isinstance(exc, Exception) else None
        tmp.unlink(missing_ok=True)
        if (code := disk_full_errno(exc)) is not None or full is not None:
            raise disk_full(path, code or full[1]) from None  # type: ignore[index]
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
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX))
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
    except BaseException as exc:
        full = full_file(tmp)  # libraries (sentencepiece) may not report a failed write
        shutil.rmtree(tmp, ignore_errors=True)
        if full is not None or (code := disk_full_errno(exc)) is not None:
            name, code = full or (Path(getattr(exc, "filename", None) or tmp), code)
            raise disk_full(path / name.relative_to(tmp) if name.is_relative_to(tmp) else path,
                            code) from None  # fmt: skip
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
