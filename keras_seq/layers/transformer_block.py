"""What the two Transformer blocks share: arguments, sublayers, residuals.

`TransformerEncoderBlock` and `TransformerDecoderBlock` subclass this
base; it is not part of the public API.
"""

import keras

from keras_seq.arguments import check_int, check_number


class TransformerBlock(keras.layers.Layer):
    """Base of the Transformer blocks: the config and the residual sublayer.

    Every sublayer (attention, feed-forward network) is wrapped the same
    way by `_residual`: post-norm (`normalize_first=False`, Vaswani et al.)
    computes `x = norm(x + dropout(sublayer(x)))`, pre-norm
    (`normalize_first=True`, Xiong et al.) computes
    `x = x + dropout(sublayer(norm(x)))` and leaves the final layer norm to
    the stack.

    The attention layers are Keras `MultiHeadAttention`s used as weight
    containers: their projections (the public `query_dense`, `key_dense`,
    `value_dense`, `output_dense`) are applied by
    `keras_seq.layers.sequence_attention` and `single_query_attention`.

    The constructor arguments (`num_heads`, `ff_dim`, `dropout`,
    `normalize_first`, `layer_norm_epsilon`) are documented on the blocks.
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
        self.num_heads = check_int("num_heads", num_heads)
        self.ff_dim = check_int("ff_dim", ff_dim)
        self.dropout = check_number("dropout", dropout, minimum=0, below=1)
        self.normalize_first = bool(normalize_first)
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.supports_masking = True

    def _attention(self, name, head_dim, query_shape, value_shape):
        """A built attention sublayer and its layer norm."""
        attention = keras.layers.MultiHeadAttention(
            num_heads=self.num_heads,
            key_dim=head_dim,
            dropout=self.dropout,
            dtype=self.dtype_policy,
            name=name,
        )
        attention.build(query_shape, value_shape)
        return attention, self._norm(f"{name}_norm", query_shape)

    def _norm(self, name, shape):
        norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name=name
        )
        norm.build(shape)
        return norm

    def _build_feed_forward(self, x_shape):
        """The ReLU feed-forward network, its norm and the output dropout."""
        policy = self.dtype_policy
        self.ffn_hidden = keras.layers.Dense(
            self.ff_dim, activation="relu", dtype=policy, name="ffn_hidden"
        )
        self.ffn_hidden.build(x_shape)
        self.ffn_output = keras.layers.Dense(x_shape[-1], dtype=policy, name="ffn_output")
        self.ffn_output.build(tuple(x_shape[:-1]) + (self.ff_dim,))
        self.ffn_norm = self._norm("ffn_norm", x_shape)
        self.output_dropout = keras.layers.Dropout(
            self.dropout, dtype=policy, name="output_dropout"
        )

    def _feed_forward(self, x):
        """`(output, None)`: the FFN as a sublayer for `_residual`."""
        return self.ffn_output(self.ffn_hidden(x)), None  # (B, T, ff_dim) -> (B, T, D)

    def _residual(self, x, sublayer, norm, training):
        """One residual sublayer, pre- or post-norm; returns `(x, aux)`.

        Args:
            x: float tensor `(B, T, D)`.
            sublayer: callable from `(B, T, D)` to `(output (B, T, D), aux)`.
            norm: the sublayer's `LayerNormalization`.
            training: Python bool. Enables dropout.
        """
        h, aux = sublayer(norm(x) if self.normalize_first else x)
        x = x + self.output_dropout(h, training=training)
        return (x if self.normalize_first else norm(x)), aux

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
