"""What the two Transformer stacks share: arguments, embedding, config.

`TransformerEncoder` and `TransformerDecoder` mix this in; it is not part
of the public API.
"""

import keras
from keras import ops

from keras_seq.arguments import check_choice, check_ids, check_int, check_number
from keras_seq.arguments import renamed_argument
from keras_seq.constants import PAD
from keras_seq.layers.attention_shapes import check_heads
from keras_seq.layers.positional_embedding import POSITIONS
from keras_seq.layers.positional_embedding import PositionalEmbedding
from keras_seq.layers.positional_embedding import check_fits_positions

# The constructor arguments a stack stores and returns in its config.
STACK_ARGUMENTS = (
    "vocab_size", "num_layers", "dim", "num_heads", "ff_dim", "max_length",
    "dropout", "normalize_first", "positions",
)


class TransformerStack:
    """Mixin of the Transformer stacks: checked arguments and shared layers.

    `_init_stack` checks and stores the arguments of `STACK_ARGUMENTS` and
    creates, in this order (the order of the weights): the token and
    position embedding `positional_embedding`, `embedding_dropout`,
    `num_layers` blocks of `block_class` in `blocks`, and with pre-norm a
    `final_norm` (otherwise `final_norm` is None).
    """

    def _init_stack(
        self, block_class, vocab_size, num_layers, dim, num_heads, ff_dim,
        max_length, dropout, normalize_first, positions,
    ):
        self.vocab_size = vocab_size = check_int("vocab_size", vocab_size)
        self.num_layers = num_layers = check_int("num_layers", num_layers)
        self.dim = dim = check_int("dim", dim)
        self.num_heads = num_heads = check_int("num_heads", num_heads)
        self.head_dim = check_heads(dim, num_heads)
        self.ff_dim = ff_dim = check_int("ff_dim", ff_dim)
        self.max_length = max_length = check_int("max_length", max_length)
        self.dropout = dropout = check_number("dropout", dropout, minimum=0, below=1)
        self.normalize_first = normalize_first = bool(normalize_first)
        self.positions = positions = check_choice("positions", positions, POSITIONS)

        policy = self.dtype_policy
        self.positional_embedding = PositionalEmbedding(
            vocab_size, max_length, dim, positions=positions, dtype=policy,
            name="embedding",
        )
        self.embedding_dropout = keras.layers.Dropout(
            dropout, dtype=policy, name="embedding_dropout"
        )
        self.blocks = [
            block_class(
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

    def _build_stack(self, memory_shape=None):
        """Build the embedding, the blocks (over `memory_shape` if given) and the norm."""
        shape = (None, None, self.dim)
        self.positional_embedding.build((None, None))
        for block in self.blocks:
            block.build(shape, *([] if memory_shape is None else [memory_shape]))
        if self.final_norm is not None:
            self.final_norm.build(shape)

    def _embed(self, ids, name, training):
        """Checked ids `(B, T)` to `(embedded (B, T, D), padding_mask (B, T))`."""
        ids = check_ids(ids, name)
        ids = check_fits_positions(ids, self.max_length, name)
        x = self.positional_embedding(ids)  # (B, T, D)
        return self.embedding_dropout(x, training=training), ops.not_equal(ids, PAD)

    def _normalize_last(self, x):
        """The final layer norm of a pre-norm stack; `x` as is with post-norm."""
        return x if self.final_norm is None else self.final_norm(x)

    def _stack_config(self):
        return {name: getattr(self, name) for name in STACK_ARGUMENTS}

    @classmethod
    def from_config(cls, config):
        # Configs written before `positions` had its name call it `embedding`.
        return super().from_config(renamed_argument(config, "embedding", "positions"))
