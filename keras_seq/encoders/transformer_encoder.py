"""A stack of Transformer encoder blocks over embedded source ids."""

import keras
from keras import ops

from keras_seq.arguments import check_choice, check_ids, check_int, check_number
from keras_seq.constants import PAD
from keras_seq.encoders.encoder_output import EncoderOutput
from keras_seq.layers.attention_shapes import check_heads
from keras_seq.layers.positional_embedding import KINDS
from keras_seq.layers.positional_embedding import PositionalEmbedding
from keras_seq.layers.positional_embedding import check_fits_positions
from keras_seq.layers.transformer_encoder_block import TransformerEncoderBlock


@keras.saving.register_keras_serializable(package="keras_seq")
class TransformerEncoder(keras.layers.Layer):
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
        embedding: str. `"sinusoidal"` or `"learned"` position embedding.
            Defaults to `"sinusoidal"`.
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
        embedding="sinusoidal",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size = check_int("vocab_size", vocab_size)
        self.num_layers = num_layers = check_int("num_layers", num_layers)
        self.dim = dim = check_int("dim", dim)
        self.num_heads = num_heads = check_int("num_heads", num_heads)
        check_heads(dim, num_heads)
        self.ff_dim = ff_dim = check_int("ff_dim", ff_dim)
        self.max_length = max_length = check_int("max_length", max_length)
        self.dropout = dropout = check_number("dropout", dropout, minimum=0, below=1)
        self.normalize_first = bool(normalize_first)
        self.embedding = embedding = check_choice("embedding", embedding, KINDS)

        policy = self.dtype_policy
        self.positional_embedding = PositionalEmbedding(
            vocab_size, max_length, dim, kind=embedding, dtype=policy,
            name="embedding",
        )
        self.embedding_dropout = keras.layers.Dropout(
            dropout, dtype=policy, name="embedding_dropout"
        )
        self.blocks = [
            TransformerEncoderBlock(
                num_heads, ff_dim, dropout=dropout,
                normalize_first=normalize_first, dtype=policy,
                name=f"block_{i}",
            )
            for i in range(num_layers)
        ]
        self.final_norm = None
        if normalize_first:
            self.final_norm = keras.layers.LayerNormalization(
                epsilon=1e-5, dtype=policy, name="final_norm"
            )

    @property
    def output_dim(self):
        """Width D of the output sequence."""
        return self.dim

    def build(self, encoder_ids_shape=None):
        self.positional_embedding.build((None, None))
        for block in self.blocks:
            block.build((None, None, self.dim))
        if self.final_norm is not None:
            self.final_norm.build((None, None, self.dim))
        self.built = True

    def call(self, encoder_ids, training=False):
        ids = check_ids(encoder_ids, "encoder_ids")
        ids = check_fits_positions(ids, self.max_length, "encoder_ids")
        padding_mask = ops.not_equal(ids, PAD)  # (B, S)
        x = self.positional_embedding(ids)  # (B, S, D)
        x = self.embedding_dropout(x, training=training)
        for block in self.blocks:
            x = block(x, padding_mask=padding_mask, training=training)
        if self.final_norm is not None:
            x = self.final_norm(x)
        return EncoderOutput(sequence=x, state=(), padding_mask=padding_mask)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocab_size": self.vocab_size,
                "num_layers": self.num_layers,
                "dim": self.dim,
                "num_heads": self.num_heads,
                "ff_dim": self.ff_dim,
                "max_length": self.max_length,
                "dropout": self.dropout,
                "normalize_first": self.normalize_first,
                "embedding": self.embedding,
            }
        )
        return config
