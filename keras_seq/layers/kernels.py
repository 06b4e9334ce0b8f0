"""The one seam that chooses how recurrences run: fast for training, or export-safe.

Every recurrent loop in keras_seq exists in two kernels over the same
weights:

- `"export"`: the export-safe loop (a while loop over preallocated
  fixed-shape buffers written with selects), which converts to TFLite
  builtins and runs in stock TF Serving. The exporters trace under it.
- `"loop"`: a fast training loop: input projections for all time steps in
  one matmul outside the loop, both directions of a bidirectional layer in
  one loop, attention keys computed once per sequence, outputs gathered in
  a TensorArray, the vocabulary projection after the loop.
- `"auto"` (the default): `"loop"`, except that a recurrence whose steps do
  not depend on the previous output (encoders, `RNNDecoder`,
  `AttentionRNNDecoder(input_feeding=False)`) runs through Keras' cuDNN
  kernels where a GPU is visible (LSTM and GRU).

The kernels agree to 1e-5 (tests/layers/test_kernels.py); they differ only
in speed and in what they convert to. Layers read the kernel when they are
traced, so the choice holds for the functions traced inside the block.
"""

import contextlib
import contextvars

import tensorflow as tf

from keras_seq.arguments import check_choice

KERNELS = ("auto", "loop", "export")
_KERNEL = contextvars.ContextVar("keras_seq_kernel", default="auto")


def current_kernel():
    """The kernel in force: `"auto"`, `"loop"` or `"export"`."""
    return _KERNEL.get()


@contextlib.contextmanager
def use_kernel(kernel):
    """Trace recurrences with `kernel` inside the block.

    Example:

    >>> with keras_seq.layers.use_kernel("export"):
    ...     concrete = tf.function(model.encoder).get_concrete_function(spec)

    Args:
        kernel: str. One of `"auto"`, `"loop"`, `"export"`.
    """
    token = _KERNEL.set(check_choice("kernel", kernel, KERNELS))
    try:
        yield
    finally:
        _KERNEL.reset(token)


def export_safe():
    """True when layers must trace their export-safe loops."""
    return current_kernel() == "export"


def cudnn_possible():
    """True when the kernel in force may run recurrences through cuDNN."""
    return current_kernel() == "auto" and bool(tf.config.list_logical_devices("GPU"))
