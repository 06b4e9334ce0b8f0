"""A stack of Transformer encoder blocks over embedded source ids."""

import keras

from keras_seq.encoders.encoder_output import EncoderOutput
from keras_seq.layers.transformer_encoder_block import TransformerEncoderBlock
from keras_seq.layers.transformer_stack import TransformerStack


@keras.saving.register_keras_serializable(package="keras_seq")
class TransformerEncoder(TransformerStack, keras.layers.Layer):
    """Transformer encoder: embedding, `num_layers` blocks, `EncoderOutput`.

    Source ids are embedded with positions (`keras_seq.layers.
    PositionalEmbedding`), go through dropout and `num_layers`
    `keras_seq.layers.TransformerEncoderBlock`s, and, with pre-norm, a final
    layer norm. The padding mask `encoder_ids != PAD` masks padded keys in
    every block and travels with the output for the decoder's
    cross-attention.

    Args:
        vocab_size: int. The number of source token ids.
        num_layers: int. The number of encoder blocks.
        dim: int. The model width D.
        num_heads: int. The number of attention heads; must divide `dim`.
        ff_dim: int. The hidden width of each feed-forward network.
        max_length: int. The longest source the encoder accepts.
        dropout: float in [0, 1). Dropout after the embedding, on attention
            weights and on each sublayer output. Defaults to `0.0`.
        normalize_first: bool. Pre-norm blocks plus a final layer norm when
            True, post-norm blocks when False. Defaults to `False`.
        positions: str. How positions are embedded: `"sinusoidal"` (fixed,
            Vaswani et al.) or `"learned"`. Defaults to `"sinusoidal"`.
        **kwargs: other `keras.layers.Layer` arguments (`name`, `dtype`...).

    Call arguments:
        encoder_ids: int tensor `(B, S)`, PAD=0.
        training: Python bool. Enables dropout. Defaults to `False`.

    Returns:
        `keras_seq.encoders.EncoderOutput(sequence, state, padding_mask)`:
        `sequence` float `(B, S, D)` in the compute dtype, `state=()`,
        `padding_mask` bool `(B, S)`.

    Raises:
        TypeError: for float `encoder_ids`.
        ValueError: for `encoder_ids` of rank other than 2, or longer than
            `max_length` when the length is known when tracing (otherwise
            `tf.errors.InvalidArgumentError` at run time).

    Example:
    >>> encoder = keras_seq.encoders.TransformerEncoder(
    ...     vocab_size=20, num_layers=2, dim=16, num_heads=2, ff_dim=32,
    ...     max_length=10)
    >>> output = encoder(np.array([[2, 5, 7, 3, 0]]))
    >>> output.sequence.shape, output.padding_mask.shape
    (TensorShape([1, 5, 16]), TensorShape([1, 5]))

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762)
        - [Xiong et al., 2020](https://arxiv.org/abs/2002.04745) (pre-norm)
    """

    def __init__(
        self,
        vocab_size,
        num_layers,
        dim,
        num_heads,
        ff_dim,
        max_length,
        dropout=0.0,
        normalize_first=False,
        positions="sinusoidal",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self._init_stack(
            TransformerEncoderBlock, vocab_size, num_layers, dim, num_heads,
            ff_dim, max_length, dropout, normalize_first, positions,
        )

    @property
    def output_dim(self):
        """Width D of the output sequence."""
        return self.dim

    def build(self, encoder_ids_shape=None):
        self._build_stack()
        self.built = True

    def call(self, encoder_ids, training=False):
        x, padding_mask = self._embed(encoder_ids, "encoder_ids", training)
        for block in self.blocks:
            x = block(x, padding_mask=padding_mask, training=training)  # (B, S, D)
        x = self._normalize_last(x)
        return EncoderOutput(sequence=x, state=(), padding_mask=padding_mask)

    def get_config(self):
        config = super().get_config()
        config.update(self._stack_config())
        return config
