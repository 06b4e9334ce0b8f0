"""One Transformer encoder layer: self-attention then feed-forward."""

import keras
from keras import ops

from keras_seq.layers.attention_shapes import check_heads
from keras_seq.layers.sequence_attention import sequence_attention
from keras_seq.layers.transformer_block import TransformerBlock


@keras.saving.register_keras_serializable(package="keras_seq")
class TransformerEncoderBlock(TransformerBlock):
    """Transformer encoder layer: padded self-attention and a ReLU FFN.

    Post-norm (`normalize_first=False`, Vaswani et al.) computes
    `x = norm(x + sublayer(x))`; pre-norm (`normalize_first=True`, Xiong et
    al.) computes `x = x + sublayer(norm(x))` and leaves the final layer norm
    to the encoder. Each sublayer output goes through dropout before the
    residual sum.

    Padded keys are masked out of the attention, so padded positions never
    change the outputs at real positions. Outputs at padded positions are
    not meaningful. A row with no real token gives finite outputs. The
    Keras mask of `x`, if any, passes through unchanged.

    Args:
        num_heads: int. The number of attention heads H; D must be divisible
            by it.
        ff_dim: int. The hidden width of the feed-forward network.
        dropout: float in [0, 1). Dropout on attention weights and on each
            sublayer output. Defaults to `0.0`.
        normalize_first: bool. Pre-norm when True, post-norm when False.
            Defaults to `False`.
        layer_norm_epsilon: float. Epsilon of the layer norms. Defaults to
            `1e-5`.
        **kwargs: other `keras.layers.Layer` arguments (`name`, `dtype`...).

    Call arguments:
        x: float tensor `(B, S, D)`.
        padding_mask: optional bool tensor `(B, S)`, True at real tokens.
        training: Python bool. Enables dropout.

    Returns:
        Float tensor `(B, S, D)`.

    Example:
    >>> block = keras_seq.layers.TransformerEncoderBlock(num_heads=2, ff_dim=32)
    >>> x = np.random.rand(2, 5, 16).astype("float32")
    >>> mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=bool)
    >>> block(x, padding_mask=mask).shape
    TensorShape([2, 5, 16])

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762)
        - [Xiong et al., 2020](https://arxiv.org/abs/2002.04745) (pre-norm)
    """

    def build(self, x_shape):
        head_dim = check_heads(x_shape[-1], self.num_heads)
        self.self_attention, self.self_attention_norm = self._attention(
            "self_attention", head_dim, x_shape, x_shape
        )
        self._build_feed_forward(x_shape)
        self.built = True

    def call(self, x, padding_mask=None, training=None):
        attention_mask = None
        if padding_mask is not None:
            attention_mask = ops.expand_dims(ops.cast(padding_mask, "bool"), 1)
            # (B, 1, S): every query sees the real keys only.

        def attend(h):
            return sequence_attention(
                self.self_attention, h, h, attention_mask, training=training
            )  # (B, S, D), (B, H, S, S)

        # A new tensor without the Keras mask of `x` (an Identity op, gone
        # after conversion): `padding_mask` is the mask here, and the
        # attention's projections would warn about a mask they drop.
        x = ops.copy(x)
        x, _ = self._residual(x, attend, self.self_attention_norm, training)
        x, _ = self._residual(x, self._feed_forward, self.ffn_norm, training)
        return x

    def compute_output_shape(self, x_shape):
        return x_shape
