"""Probe graphs and timing helpers for litert_step_profile.py.

A probe is a builtins-only `.tflite` of one piece of a decoding step (the
strategy's loop with a trivial step function, with or without state), so
that its time can be subtracted from the exported `generate`'s; `Timer`
and `runner_call` time LiteRT calls in turn. See litert_step_profile.py.
"""

import time

import keras
import numpy as np
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

import keras_seq
from keras_seq.constants import EOS

from _decode_task import BEAM_SIZE, FAMILIES, VOCAB, forbid_eos

SOURCE_LENGTH = 16  # every probe source; steps are fixed by --steps


def never_ending(name):
    """An untrained model of family `name` whose EOS logit is -1e4."""
    keras.utils.set_random_seed(0)
    model = FAMILIES[name][0]()
    model.build()
    return forbid_eos(model)


def strategy_of(method):
    return keras_seq.decoding.Beam(size=BEAM_SIZE) if method == "beam" else "greedy"


def convert(fn, spec, path):
    """One concrete function to a builtins-only `.tflite` at `path`."""
    concrete = tf.function(fn).get_concrete_function(spec)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], tf.Module())
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    with open(path, "wb") as f:
        f.write(converter.convert())
    return path


def loop_probe(model, method, steps, with_state, path):
    """The strategy's loop around a trivial step function (see the module)."""
    table = np.zeros((VOCAB, VOCAB), "float32")
    table[np.arange(VOCAB), (np.arange(VOCAB) + 1) % VOCAB] = 1.0  # next id
    table[:, EOS] = -1e4
    table = tf.constant(table)
    spec_tree = model.decoder.state_spec(None, SOURCE_LENGTH)

    def unknown_zero(ids, dtype):
        """0 at run time that the converter cannot fold (so the state is
        neither a constant nor passed through unchanged)."""
        return tf.cast(tf.equal(ids[0], -1), dtype)

    def probe(encoder_ids):
        batch = tf.shape(encoder_ids)[0]
        state = ()
        if with_state:
            state = tf.nest.map_structure(
                lambda s: tf.zeros(tf.concat([[batch], s.shape[1:]], 0), s.dtype)
                + unknown_zero(encoder_ids[0], s.dtype),
                spec_tree,
            )

        def step_fn(ids_t, state):
            # One cheap pass over the state, as any real step makes, and
            # logits that read it (or the converter drops the state).
            state = tf.nest.map_structure(
                lambda s: s + unknown_zero(ids_t, s.dtype), state)
            logits = tf.gather(table, ids_t)
            for s in tf.nest.flatten(state):
                logits += unknown_zero(tf.reshape(tf.cast(s, tf.int32), [-1]), tf.float32)
            return logits, state

        search = keras_seq.decoding.get(strategy_of(method)).search
        out = search(step_fn, state, batch, steps)
        return out["ids"], out["lengths"]

    spec = tf.TensorSpec((None, None), tf.int32, name="encoder_ids")
    return convert(probe, spec, path)


class Timer:
    """Time named callables in turn; keep each one's best mean per round."""

    def __init__(self):
        self.calls = {}

    def add(self, name, call, reps):
        call()  # warm-up: allocation, XNNPACK packing
        self.calls[name] = (call, reps)

    def run(self, rounds):
        best = dict.fromkeys(self.calls, float("inf"))
        for _ in range(rounds):
            for name, (call, reps) in self.calls.items():
                start = time.perf_counter()
                for _ in range(reps):
                    call()
                best[name] = min(best[name], (time.perf_counter() - start) / reps)
        return {name: 1000 * seconds for name, seconds in best.items()}


def runner_call(path, signature, inputs, threads):
    """A callable that invokes `signature` with fixed `inputs` (set once)."""
    interpreter = Interpreter(path, num_threads=threads)
    if signature not in interpreter.get_signature_list():  # a probe's one
        [signature] = interpreter.get_signature_list()
    runner = interpreter.get_signature_runner(signature)
    runner(**inputs)  # resize, allocate, set
    # Invoke the runner's subgraph directly: a runner call would also copy
    # every input and output through NumPy (megabytes of Transformer state
    # for decode_step at batch 32), which is not the step's own cost.
    wrapper, index = runner._interpreter_wrapper, runner._subgraph_index
    for name, value in inputs.items():
        wrapper.SetTensor(runner._inputs[name], value, index)
    return lambda: wrapper.Invoke(index), runner
