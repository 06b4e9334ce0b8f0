"""An exclusive lock on a run directory for the lifetime of one process."""

import errno
import fcntl
import os

from keras_seq.cli.errors import CLIError

LOCK = ".lock"


class RunLock:
    """Hold `RUN/.lock` exclusively (`flock`) while a command writes to RUN.

    The kernel drops the lock when the process ends in any way (exit,
    exception, SIGKILL, crash), so a lock left by a dead process is never
    in the way: the file stays, but nobody holds it. A second process that
    asks for a held lock gets a `CLIError` at once instead of waiting.

    Args:
        run: str. The run directory; it must exist.

    Example:

    >>> with RunLock("runs/x"):  # doctest: +SKIP
    ...     train()
    """

    def __init__(self, run):
        self.run = run
        self.path = os.path.join(run, LOCK)
        self._fd = None

    def __enter__(self):
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise CLIError(
                    f"{self.run} is in use by another keras-seq process "
                    f"(it holds {self.path}); wait for it to end or choose "
                    "another --out") from None
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())  # for the curious; not read
        self._fd = fd
        return self

    def __exit__(self, *exc_info):
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None
        return False
