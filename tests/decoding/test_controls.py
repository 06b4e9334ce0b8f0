"""Decoding controls in the loops, against NumPy references (`reference.py`)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_seq.constants import EOS, PAD
from keras_seq.decoding import (
    Beam,
    Controls,
    Greedy,
    Sample,
    beam_search,
    greedy_search,
    sample,
)
from tests.decoding.conftest import AttendingStepFn, table_step_fn
from tests.decoding.reference import log_softmax, np_beam, np_greedy

MAX = 8

# Each control alone, then all together (the rules interact).
SETTINGS = {
    "none": dict(),
    "min_length": dict(min_length=5),
    "length_bound": dict(max_length_a=0.5, max_length_b=2),
    "ngram1": dict(no_repeat_ngram_size=1),
    "ngram2": dict(no_repeat_ngram_size=2),
    "ngram3": dict(no_repeat_ngram_size=3),
    "repetition": dict(repetition_penalty=1.8),
    "repetition_below_1": dict(repetition_penalty=0.5),
    "all": dict(min_length=3, max_length_a=1.0, max_length_b=1, no_repeat_ngram_size=2,
                repetition_penalty=1.3, return_token_scores=True),
}
SOURCE_LENGTHS = np.array([0, 3, 6, 9, 4])
SOURCE_MASK = np.arange(9)[None, :] < SOURCE_LENGTHS[:, None]  # (5, 9)
PREFIX = np.array([[5, 6, 0], [0, 0, 0], [4, 4, 4], [7, 0, 0], [8, 1, 0]])


def _row(values, b):
    return None if values is None else values[b]


def _prefix_row(prefix, b):
    if prefix is None:
        return ()
    row = list(prefix[b])
    return row[: row.index(PAD)] if PAD in row else row


def _caps(controls):
    if not controls.bounds_rows:
        return None
    return np.floor(controls.max_length_a * SOURCE_LENGTHS + (controls.max_length_b or 0))


def _state_row(state, b):
    return tf.nest.map_structure(lambda x: x[b:b + 1], state)


@pytest.mark.parametrize("use_prefix", [False, True], ids=["free", "prefix"])
@pytest.mark.parametrize("setting", sorted(SETTINGS))
def test_greedy_matches_numpy(random_step_fn, random_inputs, setting, use_prefix):
    controls = Controls(**SETTINGS[setting])
    prefix = PREFIX if use_prefix else None
    state = random_step_fn.initial_state(random_inputs)
    out = greedy_search(random_step_fn, state, 5, MAX, controls=controls,
                        source_mask=SOURCE_MASK, target_prefix=prefix)
    caps = _caps(controls)
    for b in range(5):
        tokens, score, token_scores, _ = np_greedy(
            random_step_fn, _state_row(state, b), MAX, controls, _row(caps, b),
            _prefix_row(prefix, b))
        assert out["lengths"][b] == len(tokens), (b, tokens)
        np.testing.assert_array_equal(out["ids"][b, :len(tokens)], tokens)
        np.testing.assert_allclose(out["scores"][b], score, atol=1e-4)
        if controls.return_token_scores:
            np.testing.assert_allclose(out["token_scores"][b, :len(tokens)], token_scores,
                                       atol=1e-4)
            assert np.all(out["token_scores"][b, len(tokens):] == 0)
    assert ("token_scores" in out) == controls.return_token_scores


@pytest.mark.parametrize("use_prefix", [False, True], ids=["free", "prefix"])
@pytest.mark.parametrize("setting", sorted(SETTINGS))
def test_beam_matches_numpy(random_step_fn, random_inputs, setting, use_prefix):
    controls = Controls(**SETTINGS[setting])
    prefix = PREFIX if use_prefix else None
    state = random_step_fn.initial_state(random_inputs)
    out = beam_search(random_step_fn, state, 5, MAX, beam_size=3, num_return=3,
                      length_penalty=0.6, controls=controls,
                      source_mask=SOURCE_MASK, target_prefix=prefix)
    caps = _caps(controls)
    for b in range(5):
        expected = np_beam(random_step_fn, _state_row(state, b), MAX, 3, controls,
                           alpha=0.6, cap=_row(caps, b), prefix=_prefix_row(prefix, b))
        for r, (tokens, _, score, _, _) in enumerate(expected):
            if score < -1e8:  # a slot never filled by a real hypothesis
                continue
            assert out["lengths"][r, b] == len(tokens), (r, b, tokens)
            np.testing.assert_array_equal(out["ids"][r, b, :len(tokens)], tokens)
            np.testing.assert_allclose(out["scores"][r, b], score, rtol=1e-5, atol=1e-4)


def test_the_controls_change_the_outputs(random_step_fn, random_inputs):
    """Each setting decodes differently from no control: the tests above can fail."""
    state = random_step_fn.initial_state(random_inputs)
    free = greedy_search(random_step_fn, state, 5, MAX)
    for setting, kwargs in SETTINGS.items():
        if setting == "none":
            continue
        out = greedy_search(random_step_fn, state, 5, MAX, controls=Controls(**kwargs),
                            source_mask=SOURCE_MASK)
        changed = (out["ids"].shape != free["ids"].shape
                   or not np.array_equal(out["ids"], free["ids"])
                   or not np.allclose(out["scores"], free["scores"]))
        assert changed, setting


def test_rules_hold_on_every_hypothesis(random_step_fn, random_inputs):
    controls = Controls(min_length=2, max_length_a=1.0, max_length_b=1,
                        no_repeat_ngram_size=2)
    state = random_step_fn.initial_state(random_inputs)
    out = beam_search(random_step_fn, state, 5, MAX, beam_size=3, num_return=3,
                      controls=controls, source_mask=SOURCE_MASK, target_prefix=PREFIX)
    caps = SOURCE_LENGTHS + 1
    for r in range(3):  # noqa: B007
        for b in range(5):
            tokens = out["ids"][r, b, :out["lengths"][r, b]].numpy().tolist()
            prefix = _prefix_row(PREFIX, b)
            assert tokens[:len(prefix)] == prefix  # the prefix wins over every rule
            # Past the prefix, no bigram repeats an earlier one.
            for end in range(max(len(prefix) + 1, 2), len(tokens) + 1):
                assert tuple(tokens[end - 2:end]) not in set(zip(tokens[:end - 2],
                                                                 tokens[1:end - 1])), tokens
            assert len(tokens) == max(caps[b], len(prefix)) or (
                2 <= len(tokens) < caps[b])


def test_prefix_rows_of_different_lengths_and_the_free_rest(random_step_fn, random_inputs):
    state = random_step_fn.initial_state(random_inputs)
    out = greedy_search(random_step_fn, state, 5, MAX, target_prefix=PREFIX)
    free = greedy_search(random_step_fn, state, 5, MAX)
    assert out["ids"][0, :2].numpy().tolist() == [5, 6]
    assert out["ids"][2, :3].numpy().tolist() == [4, 4, 4]
    # Row 1 has no prefix (only PAD): it decodes as without one.
    length = int(free["lengths"][1])
    assert int(out["lengths"][1]) == length
    np.testing.assert_array_equal(out["ids"][1, :length], free["ids"][1, :length])
    # Row 4's prefix ends at its PAD: [8, 1], then free.
    assert out["ids"][4, :2].numpy().tolist() == [8, 1]


def test_forced_tokens_score_with_the_model(make_ends_at_step_fn):
    """A prefix forces tokens; their log-probs count as the model gives them."""
    step_fn, log_p = make_ends_at_step_fn(vocab=6, token=4)
    state = (tf.zeros([1], tf.int32), tf.constant([9]))
    out = greedy_search(step_fn, state, 1, 3, target_prefix=[[5, 5]],
                        controls=Controls(return_token_scores=True))
    other = float(np.log(0.4 / 5))
    assert out["ids"].numpy().tolist() == [[5, 5, 4]]
    np.testing.assert_allclose(out["token_scores"][0], [other, other, log_p], atol=1e-6)


def test_length_bound_forces_eos_at_a_times_s_plus_b(make_ends_at_step_fn):
    step_fn, log_p = make_ends_at_step_fn(vocab=6, token=4)
    state = (tf.zeros([3], tf.int32), tf.constant([99, 99, 99]))  # never EOS on its own
    controls = Controls(max_length_a=1.5, max_length_b=1)
    out = greedy_search(step_fn, state, 3, 20, controls=controls,
                        source_mask=np.arange(5)[None, :] < np.array([[0], [2], [5]]))
    assert out["lengths"].numpy().tolist() == [1, 4, 8]  # floor(1.5 S + 1)
    # The forced EOS counts with the model's log-prob (fairseq's rule).
    eos = float(np.log(0.4 / 5))
    np.testing.assert_allclose(out["scores"], [log_p + eos, 4 * log_p + eos, 8 * log_p + eos],
                               atol=1e-5)
    # The fixed cap still holds.
    short = greedy_search(step_fn, state, 3, 5, controls=controls,
                          source_mask=np.arange(5)[None, :] < np.array([[0], [2], [5]]))
    assert short["lengths"].numpy().tolist() == [1, 4, 5]


def _constant_step_fn(logits):
    table = np.tile(np.asarray(logits, np.float32), (1, len(logits), 1))  # (1, V, V)
    return table_step_fn(table)


def test_repetition_penalty_rule():
    """Divide a positive logit, multiply a negative one (CTranslate2, HF)."""
    def decode(logits, penalty, length=2):
        return greedy_search(_constant_step_fn(logits), tf.zeros([1], tf.int32), 1, length,
                             controls=Controls(repetition_penalty=penalty,
                                               return_token_scores=True))

    positive = [-9.0, -9.0, -9.0, 1.0, 2.0, -1.0]  # EOS (3) at 1.0, token 4 at 2.0
    out = decode(positive, 1.5)  # 2 / 1.5 = 1.33 > 1: token 4 again
    assert out["ids"].numpy().tolist() == [[4, 4]]
    again = np.array(positive)
    again[4] = 2.0 / 1.5
    np.testing.assert_allclose(out["token_scores"][0], [log_softmax(positive)[4],
                                                        log_softmax(again)[4]], atol=1e-6)
    assert decode(positive, 4.0)["ids"].numpy().tolist() == [[4]]  # 0.5 < 1: EOS

    negative = [-9.0, -9.0, -9.0, -3.0, -1.0, -2.0]
    out = decode(negative, 1.5)  # -1 * 1.5 = -1.5 > -2: token 4 again
    assert out["ids"].numpy().tolist() == [[4, 4]]
    again = np.array(negative)
    again[4] = -1.5
    np.testing.assert_allclose(out["token_scores"][0, 1], log_softmax(again)[4], atol=1e-6)
    assert decode(negative, 2.5)["ids"].numpy().tolist() == [[4, 5]]  # -2.5 < -2


def test_a_row_left_with_nothing_ends(make_table_step_fn):
    """With 1-gram blocking and 4 real tokens, a row ends once all are used."""
    logits = np.array([-50.0, -50.0, -50.0, -5.0, 1.0, 2.0, 3.0])
    table = np.tile(logits, (1, 7, 1))
    out = greedy_search(make_table_step_fn(table), tf.zeros([1], tf.int32), 1, 10,
                        controls=Controls(no_repeat_ngram_size=1, min_length=10))
    # 6, 5, 4, then only PAD/UNK/BOS (banned? no: never emitted) remain.
    ids = out["ids"].numpy()[0].tolist()
    assert ids[:3] == [6, 5, 4]
    assert len(set(ids)) == len(ids)  # no token twice


@pytest.mark.parametrize("strategy", [Greedy(), Beam(size=2), Sample(seed=3)], ids=repr)
def test_strategies_pass_the_controls(random_step_fn, random_inputs, strategy):
    state = random_step_fn.initial_state(random_inputs)
    out = strategy.search(random_step_fn, state, 5, MAX,
                          controls=Controls(min_length=7, no_repeat_ngram_size=1),
                          target_prefix=PREFIX)
    lengths = out["lengths"].numpy()
    assert np.all(lengths >= 7)
    for b in range(5):
        tokens = out["ids"][b, :lengths[b]].numpy().tolist()
        prefix = _prefix_row(PREFIX, b)
        assert tokens[:len(prefix)] == prefix
        rest = tokens[len(prefix):]
        assert len(set(tokens)) == len(tokens) or len(set(prefix)) < len(prefix)
        assert not set(rest) & set(prefix) or len(set(prefix)) < len(prefix)


def test_sample_obeys_the_controls(random_step_fn, random_inputs):
    state = random_step_fn.initial_state(random_inputs)
    free_short = False
    for seed in range(4):
        out = sample(random_step_fn, state, 5, MAX, temperature=3.0, seed=seed,
                     controls=Controls(min_length=5, no_repeat_ngram_size=2))
        lengths = out["lengths"].numpy()
        assert np.all(lengths >= 5)
        for b in range(5):
            tokens = out["ids"][b, :lengths[b]].numpy().tolist()
            bigrams = list(zip(tokens, tokens[1:]))
            assert len(bigrams) == len(set(bigrams))
        free = sample(random_step_fn, state, 5, MAX, temperature=3.0, seed=seed)
        free_short |= bool(np.any(free["lengths"].numpy() < 5))
    assert free_short  # without the controls some draw ends early: the test can fail


def test_controls_in_a_tf_function_with_dynamic_shapes(random_step_fn, random_inputs):
    controls = Controls(min_length=2, max_length_a=1.0, max_length_b=1,
                        no_repeat_ngram_size=2, repetition_penalty=1.2,
                        return_token_scores=True)

    @tf.function(input_signature=[tf.TensorSpec((None, 4)), tf.TensorSpec((None, None), tf.bool),
                                  tf.TensorSpec((None, None), tf.int32)])
    def run(x, mask, prefix):
        state = random_step_fn.initial_state(x)
        return beam_search(random_step_fn, state, tf.shape(x)[0], MAX, beam_size=2,
                           controls=controls, source_mask=mask, target_prefix=prefix)

    eager = beam_search(random_step_fn, random_step_fn.initial_state(random_inputs), 5, MAX,
                        beam_size=2, controls=controls, source_mask=SOURCE_MASK,
                        target_prefix=PREFIX)
    traced = run(random_inputs, SOURCE_MASK, PREFIX.astype("int32"))
    for name in ("ids", "lengths", "scores", "token_scores"):
        np.testing.assert_allclose(traced[name], eager[name], atol=1e-5)


def test_controls_config_round_trip_and_defaults():
    controls = Controls(min_length=np.int64(2), max_length_a=np.float32(1.5), max_length_b=3,
                        no_repeat_ngram_size=3, repetition_penalty=1.2,
                        return_token_scores=True)
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(controls))
    assert again == controls and hash(again) == hash(controls)
    assert Controls.from_config(controls.get_config()) == controls
    assert repr(Controls()) == "Controls()"
    assert not Controls().bounds_rows and Controls(max_length_b=0).bounds_rows
    assert type(controls.min_length) is int and type(controls.max_length_a) is float


@pytest.mark.parametrize("kwargs, name", [
    (dict(min_length=-1), "min_length"),
    (dict(min_length=1.5), "min_length"),
    (dict(max_length_a=-0.5), "max_length_a"),
    (dict(max_length_a=float("inf")), "max_length_a"),
    (dict(max_length_b=-1), "max_length_b"),
    (dict(max_length_b=2.5), "max_length_b"),
    (dict(no_repeat_ngram_size=-1), "no_repeat_ngram_size"),
    (dict(no_repeat_ngram_size=True), "no_repeat_ngram_size"),
    (dict(repetition_penalty=0), "repetition_penalty"),
    (dict(repetition_penalty="2"), "repetition_penalty"),
    (dict(return_token_scores=1), "return_token_scores"),
    (dict(return_attention="yes"), "return_attention"),
    (dict(coverage_penalty=-0.1), "coverage_penalty"),
])
def test_bad_controls_are_refused(kwargs, name):
    with pytest.raises(ValueError, match=f"argument `{name}`"):
        Controls(**kwargs)


def test_unknown_control_is_named():
    with pytest.raises(ValueError, match="Unknown keyword argument `beam_size`"):
        Controls.from_kwargs({"beam_size": 4})


def test_length_bound_needs_source_mask(random_step_fn, random_inputs):
    with pytest.raises(ValueError, match="argument `source_mask`"):
        greedy_search(random_step_fn, random_step_fn.initial_state(random_inputs), 5, MAX,
                      controls=Controls(max_length_b=3))


def test_controls_must_be_a_value(random_step_fn, random_inputs):
    with pytest.raises(ValueError, match="argument `controls`"):
        greedy_search(random_step_fn, random_step_fn.initial_state(random_inputs), 5, MAX,
                      controls={"min_length": 2})


# -- attention out, and the coverage penalty -------------------------------


@pytest.fixture
def attending():
    return AttendingStepFn(width=9)


@pytest.mark.parametrize("use_prefix", [False, True], ids=["free", "prefix"])
def test_greedy_attention_matches_numpy(attending, random_inputs, use_prefix):
    prefix = PREFIX if use_prefix else None
    controls = Controls(return_attention=True, no_repeat_ngram_size=2)
    state = attending.initial_state(random_inputs, SOURCE_MASK)
    out = greedy_search(attending, state, 5, MAX, controls=controls, source_mask=SOURCE_MASK,
                        target_prefix=prefix)
    assert out["attention"].shape == (5, out["ids"].shape[1], 9)
    for b in range(5):
        tokens, _, _, attention = np_greedy(attending, _state_row(state, b), MAX, controls,
                                            prefix=_prefix_row(prefix, b))
        assert out["lengths"][b] == len(tokens)
        np.testing.assert_allclose(out["attention"][b, :len(tokens)], np.reshape(
            attention, (len(tokens), 9)), atol=1e-5)
        assert np.all(out["attention"][b, len(tokens):] == 0)
        assert np.all(out["attention"][b, :, SOURCE_LENGTHS[b]:] == 0)  # PAD: no weight


@pytest.mark.parametrize("beta", [0.0, 0.4, 2.0])
def test_beam_attention_and_coverage_match_numpy(attending, random_inputs, beta):
    controls = Controls(return_attention=True, coverage_penalty=beta, min_length=1)
    state = attending.initial_state(random_inputs, SOURCE_MASK)
    out = beam_search(attending, state, 5, MAX, beam_size=3, num_return=3, length_penalty=0.6,
                      controls=controls, source_mask=SOURCE_MASK)
    assert out["attention"].shape == (3, 5, out["ids"].shape[2], 9)
    for b in range(5):
        expected = np_beam(attending, _state_row(state, b), MAX, 3, controls, alpha=0.6,
                           mask=SOURCE_MASK[b])
        for r, (tokens, _, score, _, rows) in enumerate(expected):
            if score < -1e8:
                continue
            assert out["lengths"][r, b] == len(tokens), (r, b, tokens)
            np.testing.assert_array_equal(out["ids"][r, b, :len(tokens)], tokens)
            np.testing.assert_allclose(out["scores"][r, b], score, rtol=1e-5, atol=1e-4)
            # The weights follow the hypothesis through the reorderings.
            np.testing.assert_allclose(out["attention"][r, b, :len(tokens)],
                                       np.reshape(rows, (len(tokens), 9)), atol=1e-5)


def test_coverage_penalty_changes_the_ranking(attending, random_inputs):
    state = attending.initial_state(random_inputs, SOURCE_MASK)
    plain = beam_search(attending, state, 5, MAX, beam_size=3, source_mask=SOURCE_MASK,
                        controls=Controls(coverage_penalty=0.0, return_attention=True))
    covered = beam_search(attending, state, 5, MAX, beam_size=3, source_mask=SOURCE_MASK,
                          controls=Controls(coverage_penalty=5.0, return_attention=True))
    assert not np.array_equal(plain["lengths"], covered["lengths"]) or not np.array_equal(
        plain["ids"], covered["ids"])
    # With a strong penalty the chosen outputs attend to more of the source.
    def spread(out):
        cover = np.minimum(out["attention"].numpy().sum(axis=1), 1.0)  # (B, S)
        return np.sum(np.log(np.clip(cover, 1e-10, 1.0)) * SOURCE_MASK)
    assert spread(covered) >= spread(plain)


def test_attention_controls_need_attention_and_a_mask(attending, random_step_fn, random_inputs):
    state = random_step_fn.initial_state(random_inputs)
    with pytest.raises(ValueError, match="argument `step_fn`.*attention"):
        greedy_search(random_step_fn, state, 5, MAX, source_mask=SOURCE_MASK,
                      controls=Controls(return_attention=True))
    with pytest.raises(ValueError, match="argument `source_mask`"):
        beam_search(attending, attending.initial_state(random_inputs, SOURCE_MASK), 5, MAX,
                    controls=Controls(coverage_penalty=1.0))
    for search in (greedy_search, sample):
        with pytest.raises(ValueError, match="argument `coverage_penalty`.*beam search"):
            search(attending, attending.initial_state(random_inputs, SOURCE_MASK), 5, MAX,
                   controls=Controls(coverage_penalty=1.0), source_mask=SOURCE_MASK)
