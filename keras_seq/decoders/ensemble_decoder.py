"""Several decoders stepping together: their log-probabilities averaged."""

import keras
import tensorflow as tf
from keras import ops

from keras_seq._nested_config import deserialize_lists, serialize_list
from keras_seq.decoders.decoder import Decoder
from keras_seq.encoders.encoder_output import EncoderOutput


@keras.saving.register_keras_serializable(package="keras_seq")
class EnsembleDecoder(Decoder):
    """The decoders of an ensemble's members behind one `Decoder` contract.

    Every step runs each member's `step` on its own state and its own part
    of the memory, and returns the weighted mean of the members'
    log-probabilities `sum_i w_i log_softmax(logits_i)` as the logits. The
    searches normalise logits with a log-softmax, so an ensemble decodes
    from the normalised weighted geometric mean of the members'
    distributions (a product of experts; OpenNMT-py's rule, before
    normalisation), and its scores are log-probabilities under it.

    The state is one flat dict, the members' states side by side: member
    `i`'s entry `k` is named `member_{i}_{k}`, except its `memory_*`
    entries, named `memory_{i}_*` so that generation keeps them out of the
    loop as it does a member's. `memory_{i}` `(B, S, memory_dims[i])` is
    member `i`'s part of the memory, cut once in `initial_state` (cutting it
    in every step cost beam search at batch 32 on LiteRT about a tenth of
    its time). With at least one member with attention the
    state also holds `"attention"` `(B, S)`: the members' weights averaged
    (with the member weights, over the members that have attention), what
    `return_attention`, `coverage_penalty` and `replace_unknown_target`
    read.

    Built by `keras_seq.models.Ensemble`, which checks the members.

    Args:
        decoders: list of keras_seq decoders sharing a target vocabulary.
        memory_dims: list of ints, each member encoder's `output_dim`: how
            `EnsembleEncoder`'s concatenated memory splits.
        member_weights: list of positive floats summing to 1, one per member.

    Call arguments:
        decoder_ids: int `(B, T)`, BOS-prefixed target ids, PAD=0.
        encoder_output: an `EnsembleEncoder`'s `EncoderOutput`.
        training: Python bool.
        return_attention: Python bool. Also return the members' attention
            averaged `(B, T, S)` (None when no member has attention).

    Returns:
        float32 `(B, T, V)`: the weighted mean of the members'
        log-probabilities (or `(log_probs, attention)`).
    """

    def __init__(self, decoders, memory_dims, member_weights, **kwargs):
        super().__init__(**kwargs)
        self.decoders = list(decoders)
        self.memory_dims = [int(d) for d in memory_dims]
        self.member_weights = [float(w) for w in member_weights]
        self.vocab_size = self.decoders[0].vocab_size
        lengths = [getattr(d, "max_length", None) for d in self.decoders]
        lengths = [length for length in lengths if length is not None]
        # The longest output every member can decode (a Transformer's cache).
        self.max_length = min(lengths) if lengths else None
        self._specs = [decoder.state_spec() for decoder in self.decoders]
        self._attending = [isinstance(spec, dict) and "attention" in spec
                           for spec in self._specs]

    def build(self, decoder_ids_shape=None, encoder_output_shape=None):
        self.built = True  # the members are built by their models

    # -- the members' views ------------------------------------------------
    def _member_output(self, encoder_output, i, decoder_state=None):
        """Member `i`'s `EncoderOutput`: its part of the memory (cut here, or
        `decoder_state["memory_{i}"]`, cut by `initial_state`), its encoder
        state."""
        if decoder_state is None:
            start = sum(self.memory_dims[:i])
            memory = encoder_output.sequence[:, :, start : start + self.memory_dims[i]]
        else:
            memory = decoder_state[f"memory_{i}"]
        return EncoderOutput(
            ops.cast(memory, self.decoders[i].compute_dtype),
            encoder_output.state[i] if encoder_output.state else (),
            encoder_output.padding_mask)

    def _name(self, i, key):
        if key.startswith("memory_"):
            return f"memory_{i}_{key[len('memory_'):]}"
        return f"member_{i}_{key}"

    def _join(self, states):
        """The members' states (dicts, or any tree) as one flat dict."""
        joined = {}
        for i, state in enumerate(states):
            if isinstance(self._specs[i], dict):
                joined.update({self._name(i, k): v for k, v in state.items()})
            else:
                joined[f"member_{i}"] = state
        return joined

    def _part(self, state, i):
        """Member `i`'s state out of the joined dict."""
        if isinstance(self._specs[i], dict):
            return {k: state[self._name(i, k)] for k in self._specs[i]}
        return state[f"member_{i}"]

    def _mean_attention(self, attentions):
        """Weighted mean over the members with attention, float32."""
        pairs = [(w, ops.cast(a, "float32"))
                 for w, a, has in zip(self.member_weights, attentions, self._attending) if has]
        total = sum(w for w, _ in pairs)
        return sum((w / total) * a for w, a in pairs)

    def _mean_log_probs(self, logits):
        return sum(w * ops.log_softmax(ops.cast(x, "float32"), axis=-1)
                   for w, x in zip(self.member_weights, logits))

    # -- the Decoder contract ----------------------------------------------
    def call(self, decoder_ids, encoder_output, training=False, return_attention=False):
        logits, attentions = [], []
        for i, decoder in enumerate(self.decoders):
            out = decoder(decoder_ids, self._member_output(encoder_output, i),
                          training=training, return_attention=True)
            logits.append(out[0])
            attentions.append(out[1])
        log_probs = self._mean_log_probs(logits)  # (B, T, V)
        if not return_attention:
            return log_probs
        return log_probs, (self._mean_attention(attentions) if any(self._attending) else None)

    def initial_state(self, encoder_output):
        outputs = [self._member_output(encoder_output, i) for i in range(len(self.decoders))]
        states = [decoder.initial_state(output)
                  for decoder, output in zip(self.decoders, outputs)]
        joined = self._with_attention(self._join(states), states)
        joined.update({f"memory_{i}": output.sequence for i, output in enumerate(outputs)})
        return joined

    def state_spec(self, batch_size=None, source_length=None):
        specs = [decoder.state_spec(batch_size, source_length) for decoder in self.decoders]
        joined = self._join(specs)
        if any(self._attending):
            joined["attention"] = tf.TensorSpec((batch_size, source_length), tf.float32)
        for i, (decoder, dim) in enumerate(zip(self.decoders, self.memory_dims)):
            joined[f"memory_{i}"] = tf.TensorSpec(
                (batch_size, source_length, dim), decoder.compute_dtype)
        return joined

    def step(self, ids_t, state, encoder_output):
        logits, states = [], []
        for i, decoder in enumerate(self.decoders):
            out, new_state = decoder.step(
                ids_t, self._part(state, i), self._member_output(encoder_output, i, state))
            logits.append(out)
            states.append(new_state)
        return self._mean_log_probs(logits), self._with_memory(
            self._with_attention(self._join(states), states), state)

    def sanitize_state(self, state):
        parts = [decoder.sanitize_state(self._part(state, i))
                 for i, decoder in enumerate(self.decoders)]
        return self._with_memory(self._with_attention(self._join(parts), parts), state)

    def _with_memory(self, joined, state):
        """`joined` with the members' memories of `state`, unchanged."""
        joined.update({f"memory_{i}": state[f"memory_{i}"] for i in range(len(self.decoders))})
        return joined

    def _with_attention(self, joined, states):
        if any(self._attending):
            joined["attention"] = self._mean_attention(
                [s["attention"] if has else None for s, has in zip(states, self._attending)])
        return joined

    def get_config(self):
        config = super().get_config()
        config.update({
            "decoders": serialize_list(self.decoders),
            "memory_dims": self.memory_dims,
            "member_weights": self.member_weights,
        })
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_lists(config, "decoders"))
