"""What the Transformer blocks and stacks share: heads and the causal mask."""

from keras import ops


def check_heads(dim, num_heads):
    """Return the per-head width `dim // num_heads`; raise if it does not divide."""
    if dim is None or dim % num_heads:
        raise ValueError(
            f"Invalid value for argument `num_heads`. The model width D must "
            f"be divisible by `num_heads`. Received: D={dim}, "
            f"num_heads={num_heads}"
        )
    return dim // num_heads


def causal_mask(query_length, key_length, start=0):
    """Bool `(T, L)`: query `t` (at position `start + t`) sees keys `<= start + t`."""
    queries = ops.expand_dims(ops.arange(query_length, dtype="int32"), 1)
    keys = ops.expand_dims(ops.arange(key_length, dtype="int32"), 0)
    return ops.less_equal(keys, queries + ops.cast(start, "int32"))
