"""Training utilities: fault-tolerant callbacks and a distributed loop."""

from keras_seq.training.cosine_over_time import CosineOverTime
from keras_seq.training.distributed_trainer import DistributedTrainer
from keras_seq.training.epoch_checkpoints import EpochCheckpoints
from keras_seq.training.non_finite_loss_error import NonFiniteLossError
from keras_seq.training.safe_backup_and_restore import SafeBackupAndRestore
from keras_seq.training.terminate_on_non_finite import TerminateOnNonFinite
from keras_seq.training.time_limit import TimeLimit

__all__ = [
    "CosineOverTime",
    "DistributedTrainer",
    "EpochCheckpoints",
    "NonFiniteLossError",
    "SafeBackupAndRestore",
    "TerminateOnNonFinite",
    "TimeLimit",
]
