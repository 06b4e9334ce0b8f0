"""One Transformer encoder layer: self-attention then feed-forward."""

import keras
import keras_hub
from keras import ops

from keras_seq.arguments import check_int, check_number
from keras_seq.layers.attention_shapes import check_heads
from keras_seq.layers.sequence_attention import sequence_attention


@keras.saving.register_keras_serializable(package="keras_seq")
class TransformerEncoderBlock(keras.layers.Layer):
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

    def __init__(
        self,
        num_heads,
        ff_dim,
        dropout=0.0,
        normalize_first=False,
        layer_norm_epsilon=1e-5,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = num_heads = check_int("num_heads", num_heads)
        self.ff_dim = ff_dim = check_int("ff_dim", ff_dim)
        self.dropout = dropout = check_number("dropout", dropout, minimum=0, below=1)
        self.normalize_first = bool(normalize_first)
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.supports_masking = True

    def build(self, x_shape):
        dim = x_shape[-1]
        head_dim = check_heads(dim, self.num_heads)
        policy = self.dtype_policy
        # keras_hub's subclass of Keras MHA: it reads no implicit Keras masks.
        self.self_attention = keras_hub.layers.CachedMultiHeadAttention(
            num_heads=self.num_heads,
            key_dim=head_dim,
            dropout=self.dropout,
            dtype=policy,
            name="self_attention",
        )
        self.self_attention.build(x_shape, x_shape)
        self.self_attention_norm = self._norm("self_attention_norm", x_shape)
        self.ffn_hidden = keras.layers.Dense(
            self.ff_dim, activation="relu", dtype=policy, name="ffn_hidden"
        )
        self.ffn_hidden.build(x_shape)
        self.ffn_output = keras.layers.Dense(
            dim, dtype=policy, name="ffn_output"
        )
        self.ffn_output.build(tuple(x_shape[:-1]) + (self.ff_dim,))
        self.ffn_norm = self._norm("ffn_norm", x_shape)
        self.output_dropout = keras.layers.Dropout(
            self.dropout, dtype=policy, name="output_dropout"
        )
        self.built = True

    def _norm(self, name, shape):
        norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name=name
        )
        norm.build(shape)
        return norm

    def call(self, x, padding_mask=None, training=None):
        attention_mask = None
        if padding_mask is not None:
            attention_mask = ops.expand_dims(ops.cast(padding_mask, "bool"), 1)
            # (B, 1, S): every query sees the real keys only.

        # A new tensor without the Keras mask of `x` (an Identity op, gone
        # after conversion): `padding_mask` is the mask here, and the
        # attention's projections would warn about a mask they drop.
        x = ops.copy(x)
        residual = x
        if self.normalize_first:
            x = self.self_attention_norm(x)
        x, _ = sequence_attention(
            self.self_attention, x, x, attention_mask, training=training
        )  # (B, S, D)
        x = residual + self.output_dropout(x, training=training)
        if not self.normalize_first:
            x = self.self_attention_norm(x)

        residual = x
        if self.normalize_first:
            x = self.ffn_norm(x)
        x = self.ffn_output(self.ffn_hidden(x))  # (B, S, ff_dim) -> (B, S, D)
        x = residual + self.output_dropout(x, training=training)
        if not self.normalize_first:
            x = self.ffn_norm(x)
        return x

    def compute_output_shape(self, x_shape):
        return x_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "ff_dim": self.ff_dim,
                "dropout": self.dropout,
                "normalize_first": self.normalize_first,
                "layer_norm_epsilon": self.layer_norm_epsilon,
            }
        )
        return config
