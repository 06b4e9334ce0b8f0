"""Several Seq2Seq models decoded as one."""

import keras

from keras_seq._nested_config import deserialize_lists, serialize_list
from keras_seq.arguments import check_shares
from keras_seq.decoders.ensemble_decoder import EnsembleDecoder
from keras_seq.encoders.ensemble_encoder import EnsembleEncoder
from keras_seq.models.seq2seq import Seq2Seq


@keras.saving.register_keras_serializable(package="keras_seq")
class Ensemble(Seq2Seq):
    """N Seq2Seq models sharing their vocabularies, decoded in one graph.

    Any mix of families works (RNN, attention RNN, Transformer): every
    decoder speaks the same `initial_state`/`step` contract. At every step
    the members' log-probabilities are averaged (weighted by
    `weights`) and the searches normalise the result, so the ensemble
    decodes from the normalised weighted geometric mean of the members'
    next-token distributions (see `keras_seq.decoders.EnsembleDecoder`).

    An `Ensemble` is a `Seq2Seq`: `generate` takes every strategy and
    control a member takes (`return_attention` and `coverage_penalty` when
    at least one member has attention: the members' weights averaged), and
    `keras_seq.export.export_saved_model` / `export_tflite` take it like a
    model. Its `encoder` runs every member's encoder (memories concatenated
    on the feature axis); its `decoder`'s state is the members' states side
    by side. Calling it (teacher forcing) returns the averaged
    log-probabilities `(B, T, V)`.

    The members are used, not copied: an ensemble reads their current
    weights.

    Args:
        members: list of at least one built-or-buildable `Seq2Seq` with the
            same source vocabulary size and the same target vocabulary size
            (not an `Ensemble`: list its members instead). The vocabularies
            themselves live in tokenizers; check them where you have them
            (the CLI's `--ensemble` does).
        weights: None or one positive number per member; normalised to sum
            to 1. `None` weighs every member alike.

    Example:

    >>> a = keras_seq.models.rnn_seq2seq(20, 20, units=16)
    >>> b = keras_seq.models.transformer_seq2seq(20, 20, dim=16, num_heads=2)
    >>> ensemble = keras_seq.models.Ensemble([a, b], weights=[2, 1])
    >>> out = ensemble.generate(np.array([[5, 6, 7]]), strategy="beam")
    """

    def __init__(self, members, weights=None, **kwargs):
        members = check_members(members)
        self.member_weights = check_shares("weights", weights, len(members), per="member")
        encoder = EnsembleEncoder([m.encoder for m in members])
        decoder = EnsembleDecoder([m.decoder for m in members], encoder.output_dims,
                                  self.member_weights)
        super().__init__(encoder, decoder, **kwargs)
        self.members = members
        if all(member.built for member in members):
            self.build()  # its weights are the members': nothing is left to build

    def build(self, input_shape=None):
        for member in self.members:
            if not member.built:
                member.build()
        self.encoder.build()
        self.decoder.build()
        self.built = True

    def get_config(self):
        config = keras.Model.get_config(self)
        for key in ("encoder", "decoder"):
            config.pop(key, None)
        config.update({
            "members": serialize_list(self.members),
            "weights": self.member_weights,
        })
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_lists(config, "members"))


def check_members(members):
    """A non-empty list of Seq2Seq models sharing vocabulary sizes."""
    if not isinstance(members, (list, tuple)) or not members:
        raise ValueError(
            "Invalid value for argument `members`. Expected a non-empty list of "
            f"keras_seq Seq2Seq models. Received: members={members!r}")
    for i, member in enumerate(members):
        if isinstance(member, Ensemble):
            raise ValueError(
                "Invalid value for argument `members`. An ensemble's members are "
                f"Seq2Seq models; list the members of member {i} instead "
                "(`Ensemble(ensemble.members + [...])`). Received: an Ensemble")
        if not isinstance(member, Seq2Seq):
            raise ValueError(
                "Invalid value for argument `members`. Expected keras_seq Seq2Seq "
                f"models. Received: member {i} of type {type(member).__name__}")
    for i, member in enumerate(members[1:], start=1):
        for side, part in (("source", "encoder"), ("target", "decoder")):
            first = getattr(members[0], part).vocab_size
            size = getattr(member, part).vocab_size
            if size != first:
                raise ValueError(
                    "Invalid value for argument `members`. Members must share their "
                    f"source and target vocabularies. Received: member {i}'s {side} "
                    f"vocabulary has {size} ids, member 0's {first}")
    return list(members)
