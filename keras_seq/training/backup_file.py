"""`DistributedTrainer`'s backup: every variable and the position, one file.

A single `.npz` (NumPy's zip of arrays) written atomically: a process killed
while writing leaves the previous backup whole.
"""

import io
import zipfile

import numpy as np

from keras_seq.atomic import atomic_write_bytes


def write_backup(path, variables, epoch, step):
    """Write the values of `variables` and `(epoch, step)` to `path`.

    Args:
        path: str. The backup file.
        variables: list of TF variables (the model's, then the optimizer's).
        epoch: int. The epoch to resume in.
        step: int. The steps of that epoch already done.
    """
    arrays = {f"v{i}": np.asarray(v.numpy()) for i, v in enumerate(variables)}
    arrays["position"] = np.array([epoch, step], np.int64)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def read_backup(path, variables):
    """Assign the backup at `path` to `variables`; return `(epoch, step)`.

    Raises:
        ValueError: naming `path`, when the file is damaged or was written
            for another model or optimizer (another count or shape of
            variables). Nothing is assigned then.
    """
    try:
        with np.load(path) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"cannot read the training backup {path}: "
                         f"corrupt or foreign file ({e})") from None
    if "position" not in arrays or len(arrays) != len(variables) + 1:
        raise ValueError(f"the training backup {path} belongs to a different "
                         "model or optimizer")
    values = [arrays[f"v{i}"] for i in range(len(variables))]
    if any(tuple(a.shape) != tuple(v.shape) for a, v in zip(values, variables)):
        raise ValueError(f"the training backup {path} belongs to a "
                         "different model (shapes differ)")
    for value, variable in zip(values, variables):
        variable.assign(value)
    epoch, step = (int(x) for x in arrays["position"])
    return epoch, step
