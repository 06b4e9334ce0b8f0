"""One-call constructors of the standard Seq2Seq models."""

from keras_seq.arguments import check_choice, check_int
from keras_seq.decoders.attention_rnn_decoder import AttentionRNNDecoder
from keras_seq.decoders.rnn_decoder import RNNDecoder
from keras_seq.decoders.transformer_decoder import TransformerDecoder
from keras_seq.encoders.rnn_encoder import RNNEncoder
from keras_seq.encoders.transformer_encoder import TransformerEncoder
from keras_seq.models.seq2seq import Seq2Seq


def rnn_seq2seq(
    source_vocab_size,
    target_vocab_size,
    cell="lstm",
    units=256,
    num_layers=1,
    bidirectional=False,
    attention=None,
    dropout=0.0,
    input_feeding=True,
    name=None,
):
    """An RNN encoder-decoder, with or without attention.

    `attention=None` gives the textbook model whose only link between encoder
    and decoder is the encoder's final state; `"bahdanau"` or `"luong"` adds
    an attention decoder with input feeding. The model width is `units`
    everywhere: a bidirectional encoder uses `units // 2` per direction, so
    `units` must then be even.

    Args:
        source_vocab_size: int.
        target_vocab_size: int.
        cell: str. One of `"simple_rnn"`, `"lstm"`, `"gru"`. Defaults to
            `"lstm"`.
        units: int. Defaults to `256`.
        num_layers: int. Layers in the encoder and in the decoder. Defaults
            to `1`.
        bidirectional: bool. Bidirectional encoder. Defaults to `False`.
        attention: None, `"bahdanau"` or `"luong"`. Defaults to `None`.
        dropout: float. Defaults to `0.0`.
        input_feeding: bool. With attention, feed the previous attentional
            vector to the decoder cells (Luong et al.). Without it no step
            depends on the previous output, so the decoder's recurrence runs
            in one fused kernel (cuDNN on a GPU). Defaults to `True`.
        name: str or None. The model's name.

    Returns:
        A `keras_seq.models.Seq2Seq`.

    Example:

    >>> model = keras_seq.models.rnn_seq2seq(30, 40, units=32,
    ...                                      attention="bahdanau")
    """
    check_choice("attention", attention, (None, "bahdanau", "luong"))
    units = check_int("units", units)
    if bidirectional and units % 2:
        raise ValueError(
            "Invalid value for argument `units`. A bidirectional encoder "
            f"splits `units` between two directions, so it must be even. "
            f"Received: units={units}"
        )
    encoder = RNNEncoder(
        source_vocab_size,
        units // 2 if bidirectional else units,
        cell=cell,
        num_layers=num_layers,
        bidirectional=bidirectional,
        dropout=dropout,
        embedding_dim=units,
        name="encoder",
    )
    if attention is None:
        decoder = RNNDecoder(
            target_vocab_size,
            units,
            cell=cell,
            num_layers=num_layers,
            dropout=dropout,
            name="decoder",
        )
    else:
        decoder = AttentionRNNDecoder(
            target_vocab_size,
            units,
            cell=cell,
            num_layers=num_layers,
            attention=attention,
            input_feeding=input_feeding,
            dropout=dropout,
            name="decoder",
        )
    return Seq2Seq(encoder, decoder, name=name)


def transformer_seq2seq(
    source_vocab_size,
    target_vocab_size,
    num_layers=2,
    dim=128,
    num_heads=4,
    ff_dim=256,
    max_length=128,
    dropout=0.0,
    name=None,
):
    """A Transformer encoder-decoder.

    Args:
        source_vocab_size: int.
        target_vocab_size: int.
        num_layers: int. Blocks in the encoder and in the decoder. Defaults
            to `2`.
        dim: int. Model width. Defaults to `128`.
        num_heads: int. Attention heads; must divide `dim`. Defaults to `4`.
        ff_dim: int. Width of the feed-forward layers. Defaults to `256`.
        max_length: int. Longest source and target (with BOS/EOS). Defaults
            to `128`.
        dropout: float. Defaults to `0.0`.
        name: str or None. The model's name.

    Returns:
        A `keras_seq.models.Seq2Seq`.

    Example:

    >>> model = keras_seq.models.transformer_seq2seq(30, 40, dim=32,
    ...                                              num_heads=2, ff_dim=64)

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762)
    """
    common = dict(
        num_layers=num_layers,
        dim=dim,
        num_heads=num_heads,
        ff_dim=ff_dim,
        max_length=max_length,
        dropout=dropout,
    )
    encoder = TransformerEncoder(source_vocab_size, name="encoder", **common)
    decoder = TransformerDecoder(target_vocab_size, name="decoder", **common)
    return Seq2Seq(encoder, decoder, name=name)
