"""Reusable layers: attention, embeddings, Transformer blocks."""

from keras_seq.layers.bahdanau_attention import BahdanauAttention
from keras_seq.layers.luong_attention import LuongAttention
from keras_seq.layers.positional_embedding import PositionalEmbedding
from keras_seq.layers.transformer_decoder_block import TransformerDecoderBlock
from keras_seq.layers.transformer_encoder_block import TransformerEncoderBlock
from keras_seq.layers.kernels import use_kernel

__all__ = [
    "BahdanauAttention",
    "LuongAttention",
    "PositionalEmbedding",
    "TransformerDecoderBlock",
    "TransformerEncoderBlock",
    "use_kernel",
]
