"""Atomic writes: a failed or killed write never leaves a half-written file.

Used by the exporters, `train` (backups, configs), the CLI and the plots.
"""

import contextlib
import os
import shutil
import tempfile
import uuid


@contextlib.contextmanager
def atomic_directory(path, overwrite=False):
    """Yield a temporary sibling directory that becomes `path` on success.

    On any exception the temporary directory is removed and `path` is left
    as it was. An existing `path` raises `FileExistsError` unless
    `overwrite=True`, in which case it is replaced only after the new
    content is complete.
    """
    path = os.path.abspath(os.fspath(path))
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(
            f"Export target {path!r} already exists. Choose a new version "
            "directory or pass overwrite=True."
        )
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.tmp-", dir=parent)
    try:
        os.chmod(tmp, 0o777 & ~umask())  # mkdtemp's 0700 would hide it from a server
        yield tmp
        if os.path.exists(path):
            old = f"{tmp}.old-{uuid.uuid4().hex}"
            os.rename(path, old)
            os.rename(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def atomic_write_bytes(path, data, overwrite=True):
    """Write `data` to `path` through a temporary file and `os.replace`."""
    path = os.path.abspath(os.fspath(path))
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{path!r} already exists. Pass overwrite=True.")
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.tmp-", dir=parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~umask())  # as open() would make it, not mkstemp's 0600
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def umask():
    """The process's umask (read by setting it and setting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
