"""`encode` and `decode_step`: the signatures an app drives step by step."""

import keras
import tensorflow as tf

from keras_seq.encoders.encoder_output import EncoderOutput
from keras_seq.export.request_bounds import finite_or_zero, unk_outside


def state_names(state):
    """Flat signature names of a state tree: 'state_rnn_0_1', 'state_feed'..."""
    paths = keras.tree.flatten_with_path(state)
    return ["state_" + "_".join(str(p) for p in path) for path, _ in paths]


class StepFunctions:
    """The app-driven decoding of a `ServingModule`: its functions and specs.

    `encode(encoder_ids)` returns the memory, its mask and the decoder's
    initial state, flattened to named tensors (`state_rnn_0_0`, ...);
    `decode_step(ids, memory, memory_mask, state_...)` returns the logits
    and the next state under the same names. The state's names, shapes and
    dtypes come from `Decoder.state_spec`. With both `batch_size` and
    `max_source_length` set the shapes are static (what TFLite needs).

    Args:
        module: the `ServingModule` (its model, `sanitize` and sizes).
    """

    def __init__(self, module):
        self.module = module
        self.static = module.max_source_length is not None and module.batch_size is not None
        self.length = module.max_source_length if self.static else None
        self.template = module.model.decoder.state_spec(module.batch_size, self.length)
        self.names = state_names(self.template)

    def source_spec(self):
        return tf.TensorSpec((self.module.batch_size, self.length), tf.int32,
                             name="encoder_ids")

    def encode(self, encoder_ids):
        model = self.module.model
        ids = self.module.sanitize(encoder_ids)
        encoded = model.encoder(ids, training=False)
        state = model.decoder.initial_state(encoded)
        outputs = {
            "memory": encoded.sequence,
            "memory_mask": tf.cast(encoded.padding_mask, tf.int32),
        }
        outputs.update(zip(self.names, keras.tree.flatten(state)))
        return outputs

    def decode_step(self, inputs):
        # The app feeds these back; NaN or +-inf there reads as 0, an id
        # outside the target vocabulary as UNK, and the decoder makes the
        # rest of its state safe (a Transformer's cache position).
        decoder = self.module.model.decoder
        inputs = {k: finite_or_zero(v) if v.dtype.is_floating else v
                  for k, v in inputs.items()}
        state = keras.tree.pack_sequence_as(
            self.template, [inputs[name] for name in self.names])
        state = decoder.sanitize_state(state)
        encoded = EncoderOutput(inputs["memory"], (), tf.cast(inputs["memory_mask"], tf.bool))
        ids = unk_outside(inputs["ids"], self.module.target_vocab_size)  # (B,)
        logits, new_state = decoder.step(ids, state, encoded)
        outputs = {"logits": logits}
        outputs.update(zip(self.names, keras.tree.flatten(new_state)))
        return outputs

    def decode_step_signature(self):
        model, batch = self.module.model, self.module.batch_size
        specs = {
            "ids": tf.TensorSpec((batch,), tf.int32, name="ids"),
            "memory": tf.TensorSpec((batch, self.length, int(model.encoder.output_dim)),
                                    model.encoder.compute_dtype, name="memory"),
            "memory_mask": tf.TensorSpec((batch, self.length), tf.int32, name="memory_mask"),
        }
        for name, spec in zip(self.names, keras.tree.flatten(self.template)):
            specs[name] = tf.TensorSpec(spec.shape, spec.dtype, name=name)
        return specs
