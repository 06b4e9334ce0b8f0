"""Hand-written step functions shared by the decoding tests (no model)."""

import numpy as np
import pytest
import tensorflow as tf

from keras_seq.constants import EOS

VOCAB = 9
WIDTH = 4


class RandomStepFn:
    """Deterministic step function whose logits depend on a nested state.

    The state is `{"h": float (N, D), "meta": (steps int (N,), hash int (N,))}`:
    a small tanh recurrence plus a running hash of the fed tokens, so any
    mistake in reordering the state changes the logits.
    """

    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        self.embed = tf.constant(rng.normal(size=(VOCAB, WIDTH)), tf.float32)
        self.recur = tf.constant(rng.normal(size=(WIDTH, WIDTH)), tf.float32)
        self.out = tf.constant(2 * rng.normal(size=(WIDTH, VOCAB)), tf.float32)

    def initial_state(self, x):
        x = tf.convert_to_tensor(x, tf.float32)  # (B, D)
        batch = tf.shape(x)[0]
        zeros = tf.zeros([batch], tf.int32)
        return {"h": x, "meta": (zeros, zeros + 7)}

    def __call__(self, ids_t, state):
        steps, hashed = state["meta"]
        h = tf.tanh(state["h"] @ self.recur + tf.gather(self.embed, ids_t))
        hashed = (hashed * 31 + ids_t + 1) % 9973
        bonus = tf.one_hot(hashed % VOCAB, VOCAB) * 1.5
        # EOS grows likelier with time so that rows end at different steps.
        eos = tf.one_hot(tf.fill(tf.shape(ids_t), EOS), VOCAB)
        eos = eos * tf.cast(steps, tf.float32)[:, None] * 0.4
        logits = h @ self.out + bonus + eos
        return logits, {"h": h, "meta": (steps + 1, hashed)}

    def rescore(self, x, ids, ended):
        """Teacher-forced sum of log-probs of `ids` (+ EOS if `ended`)."""
        state = self.initial_state(np.asarray(x, np.float32)[None])
        tokens = list(ids) + ([EOS] if ended else [])
        fed, total = 2, 0.0
        for token in tokens:
            logits, state = self(tf.constant([fed], tf.int32), state)
            total += float(tf.nn.log_softmax(logits)[0, token])
            fed = token
        return total


class AttendingStepFn(RandomStepFn):
    """`RandomStepFn` that also reports attention over S source positions.

    `initial_state(x, mask)` keeps the row's source mask `(B, S)` in the
    state; each step's weights are a masked softmax of `h @ keys`, exactly
    0 on masked positions. Returns `(logits, state, attention)`.
    """

    def __init__(self, width, seed=0):
        super().__init__(seed)
        rng = np.random.default_rng(seed + 1)
        self.keys = tf.constant(3 * rng.normal(size=(WIDTH, width)), tf.float32)

    def initial_state(self, x, mask):
        state = super().initial_state(x)
        state["mask"] = tf.cast(mask, tf.float32)
        return state

    def __call__(self, ids_t, state):
        mask = state["mask"]
        inner = {k: v for k, v in state.items() if k != "mask"}
        logits, new = super().__call__(ids_t, inner)
        scores = tf.where(mask > 0, new["h"] @ self.keys, -1e9)
        attention = tf.nn.softmax(scores) * mask
        return logits, {**new, "mask": mask}, attention


@pytest.fixture
def random_step_fn():
    return RandomStepFn()


@pytest.fixture
def random_inputs():
    return np.random.default_rng(1).normal(size=(5, WIDTH)).astype("float32")


def table_step_fn(table):
    """Step function reading logits from `table[step, previous_token]`.

    The state is the step counter (N,). Steps past the table reuse its last
    slice.
    """
    table = tf.constant(table, tf.float32)  # (steps, V, V)
    last = table.shape[0] - 1

    def step_fn(ids_t, state):
        step = tf.minimum(state, last)
        logits = tf.gather_nd(table, tf.stack([step, ids_t], axis=-1))
        return logits, state + 1

    return step_fn


def ends_at_step_fn(vocab=6, token=4):
    """Row n emits `token` until step `state[n][1]`, then EOS.

    The state is `(step, end_step)`, both (N,) int32. Probabilities are 0.6
    for the chosen token and 0.1 for each other one.
    """
    probs_token = np.full(vocab, 0.4 / (vocab - 1))
    probs_token[token] = 0.6
    probs_eos = np.full(vocab, 0.4 / (vocab - 1))
    probs_eos[EOS] = 0.6
    log_token = tf.constant(np.log(probs_token), tf.float32)
    log_eos = tf.constant(np.log(probs_eos), tf.float32)

    def step_fn(ids_t, state):
        step, end = state
        at_end = tf.equal(step, end)[:, None]
        logits = tf.where(at_end, log_eos[None], log_token[None])
        return logits, (step + 1, end)

    return step_fn, float(np.log(0.6))


def log_softmax(x):
    x = np.asarray(x, np.float64)
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


@pytest.fixture
def np_log_softmax():
    return log_softmax


@pytest.fixture
def make_table_step_fn():
    return table_step_fn


@pytest.fixture
def make_ends_at_step_fn():
    return ends_at_step_fn


class CallCounter:
    """Wrap a step function and count its calls with a `tf.Variable`.

    The increment is a stateful op inside the loop body, so it counts loop
    iterations actually run, in eager mode and inside a `tf.function`.
    """

    def __init__(self, step_fn):
        self.step_fn = step_fn
        self.calls = tf.Variable(0, dtype=tf.int32)

    def __call__(self, ids_t, state):
        self.calls.assign_add(1)
        return self.step_fn(ids_t, state)


@pytest.fixture
def call_counter():
    return CallCounter
