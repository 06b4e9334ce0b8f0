"""The error raised when training meets a NaN or infinite loss."""


class NonFiniteLossError(RuntimeError):
    """Training stopped because the loss (or a weight) became NaN or Inf.

    Raised by `TerminateOnNonFinite`, `SafeBackupAndRestore` and
    `DistributedTrainer` before anything non-finite is written, so the last
    backup on disk is the last good state.

    Attributes:
        epoch: int, 0-based epoch where it happened.
        step: int or None, 0-based step in that epoch.
        value: float, the offending loss value (NaN when weights were hit).
    """

    def __init__(self, message, epoch=None, step=None, value=None):
        super().__init__(message)
        self.epoch = epoch
        self.step = step
        self.value = value
