"""Ensemble: N Seq2Seq models decoded as one, against NumPy references."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_seq.constants import BOS
from keras_seq.decoders import EnsembleDecoder
from keras_seq.decoding import Beam, Controls, Greedy, Sample, tile_beams
from keras_seq.encoders import EnsembleEncoder
from keras_seq.metrics import MaskedSparseCrossEntropy
from keras_seq.models import Ensemble, rnn_seq2seq
from tests.decoding.reference import log_softmax, np_beam, np_greedy
from tests.export.conftest import V, reverse_task, trained_model

# A plain RNN, an attention RNN and a Transformer: every decoder contract.
MIX = ["gru-plain", "lstm-luong", "transformer"]
WEIGHTS = [5, 3, 2]  # normalised to 0.5, 0.3, 0.2
MAX = 9


@pytest.fixture(scope="module")
def members():
    return [trained_model(name) for name in MIX]


@pytest.fixture(scope="module")
def sources():
    x, _ = reverse_task(5, seed=3)
    empty = np.zeros((1, x["encoder_ids"].shape[1]), np.int32)  # only PAD
    return np.concatenate([x["encoder_ids"], empty])


class MemberSteps:
    """A NumPy reference step function for one source: every member steps
    on its own, and their log-softmaxes are averaged in float64."""

    def __init__(self, members, weights, source_row):
        self.members = members
        self.weights = np.asarray(weights, np.float64) / np.sum(weights)
        self.encoded = [m.encoder(source_row[None]) for m in members]
        self.state = [m.decoder.initial_state(e) for m, e in zip(members, self.encoded)]

    def __call__(self, ids, state):
        rows = int(ids.shape[0])
        total, new_state, attention = 0.0, [], []
        for member, encoded, s, w in zip(self.members, self.encoded, state, self.weights):
            logits, s = member.decoder.step(ids, s, tile_beams(encoded, rows))
            total = total + w * np.stack([log_softmax(r) for r in logits.numpy()])
            new_state.append(s)
            if "attention" in s:
                attention.append((w, np.asarray(s["attention"], np.float64)))
        weight = sum(w for w, _ in attention)
        weights = sum(w * a for w, a in attention) / weight
        return total, new_state, weights


def test_greedy_matches_the_numpy_average_of_the_members(members, sources):
    ensemble = Ensemble(members, weights=WEIGHTS)
    out = ensemble.generate(sources, strategy=Greedy(), max_length=MAX,
                            return_token_scores=True, return_attention=True)
    for b, row in enumerate(sources[:-1]):
        steps = MemberSteps(members, WEIGHTS, row)
        tokens, score, token_scores, attention = np_greedy(
            steps, steps.state, MAX, Controls(return_attention=True))
        assert out["lengths"][b] == len(tokens) > 0, (b, tokens)
        np.testing.assert_array_equal(out["ids"][b, :len(tokens)], tokens)
        np.testing.assert_allclose(out["scores"][b], score, atol=1e-4)
        np.testing.assert_allclose(out["token_scores"][b, :len(tokens)], token_scores,
                                   atol=1e-4)
        np.testing.assert_allclose(out["attention"][b, :len(tokens)],
                                   np.reshape(attention, (len(tokens), -1)), atol=1e-5)
    assert out["lengths"][-1] == 0 and out["scores"][-1] == 0  # the empty source


@pytest.mark.parametrize("controls", [
    dict(),
    dict(coverage_penalty=0.4, min_length=2, no_repeat_ngram_size=2, return_attention=True),
], ids=["plain", "controls"])
def test_beam_matches_the_numpy_average_of_the_members(members, sources, controls):
    ensemble = Ensemble(members, weights=WEIGHTS)
    out = ensemble.generate(sources, strategy=Beam(size=3, num_return=3, length_penalty=0.6),
                            max_length=MAX, **controls)
    for b, row in enumerate(sources[:-1]):
        steps = MemberSteps(members, WEIGHTS, row)
        expected = np_beam(steps, steps.state, MAX, 3, Controls(**controls), alpha=0.6,
                           mask=row != 0)
        for r, (tokens, _, score, _, rows) in enumerate(expected):
            if score < -1e8:
                continue
            assert out["lengths"][r, b] == len(tokens), (r, b, tokens)
            np.testing.assert_array_equal(out["ids"][r, b, :len(tokens)], tokens)
            np.testing.assert_allclose(out["scores"][r, b], score, rtol=1e-5, atol=1e-4)
            if "return_attention" in controls:
                np.testing.assert_allclose(out["attention"][r, b, :len(tokens)],
                                           np.reshape(rows, (len(tokens), -1)), atol=1e-5)


def test_the_ensemble_differs_from_each_member(members, sources):
    """So the reference tests above can fail: the average is not any one member."""
    ensemble = Ensemble(members, weights=WEIGHTS).generate(sources, max_length=MAX)
    for member in members:
        alone = member.generate(sources, max_length=MAX)
        assert not np.allclose(alone["scores"], ensemble["scores"], atol=1e-3)


@pytest.mark.parametrize("name", MIX)
@pytest.mark.parametrize("strategy", [Greedy(), Beam(size=3, length_penalty=0.6)],
                         ids=["greedy", "beam"])
def test_an_ensemble_of_one_is_the_model(name, strategy, sources):
    model = trained_model(name)
    alone = model.generate(sources, strategy=strategy, max_length=MAX)
    one = Ensemble([model]).generate(sources, strategy=strategy, max_length=MAX)
    np.testing.assert_array_equal(one["lengths"], alone["lengths"])
    np.testing.assert_array_equal(one["ids"], alone["ids"])
    np.testing.assert_allclose(one["scores"], alone["scores"], atol=1e-5)
    x, _ = reverse_task(4, seed=5)
    np.testing.assert_allclose(Ensemble([model])(x), tf.nn.log_softmax(model(x)), atol=1e-5)


def test_teacher_forcing_equals_the_steps(members):
    """`call` (the averaged log-probs of every position) == `step` by step."""
    ensemble = Ensemble(members, weights=WEIGHTS)
    x, _ = reverse_task(3, seed=7)
    log_probs, attention = ensemble(x, return_attention=True)  # (B, T, V), (B, T, S)
    expected = sum(w * tf.nn.log_softmax(m(x)) for w, m in zip([.5, .3, .2], members))
    np.testing.assert_allclose(log_probs, expected, atol=1e-5)
    encoded = ensemble.encoder(x["encoder_ids"])
    state = ensemble.decoder.initial_state(encoded)
    for t in range(x["decoder_ids"].shape[1]):
        real = x["decoder_ids"][:, t] != 0  # PAD positions are not outputs
        logits, state = ensemble.decoder.step(x["decoder_ids"][:, t], state, encoded)
        np.testing.assert_allclose(np.asarray(logits)[real], np.asarray(log_probs)[real, t],
                                   atol=1e-4)
        np.testing.assert_allclose(np.asarray(state["attention"])[real],
                                   np.asarray(attention)[real, t], atol=1e-5)


def test_state_is_the_members_states_side_by_side(members):
    decoder = Ensemble(members).decoder
    spec = decoder.state_spec(2, 5)
    assert set(spec) == {
        "member_0_rnn",
        "member_1_rnn", "member_1_feed", "member_1_attention", "memory_1_keys",
        "member_2_keys", "member_2_values", "member_2_index", "member_2_attention",
        "memory_2_keys", "memory_2_values",
        "attention",
        "memory_0", "memory_1", "memory_2",  # each member's part of the memory
    }
    assert spec["attention"].shape == (2, 5) and spec["attention"].dtype == tf.float32
    encoded = Ensemble(members).encoder(np.array([[5, 6, 0, 0, 0], [7, 8, 9, 4, 5]]))
    assert encoded.sequence.shape == (2, 5, sum(m.encoder.output_dim for m in members))
    state = decoder.initial_state(encoded)
    assert tf.nest.map_structure(lambda s: tuple(s.shape), spec) == \
        tf.nest.map_structure(lambda s: tuple(s.shape), state)
    # The parts, cut once, are the members' own memories.
    start = 0
    for i, m in enumerate(members):
        dim = m.encoder.output_dim
        np.testing.assert_array_equal(state[f"memory_{i}"], encoded.sequence[:, :, start:start + dim])
        np.testing.assert_allclose(state[f"memory_{i}"], m.encoder(np.array(
            [[5, 6, 0, 0, 0], [7, 8, 9, 4, 5]])).sequence, atol=1e-6)
        start += dim


def test_padding_does_not_change_an_output(members):
    ensemble = Ensemble(members, weights=WEIGHTS)
    short = np.array([[5, 9, 7]], np.int32)
    padded = np.array([[5, 9, 7, 0, 0, 0], [4, 6, 8, 10, 12, 13]], np.int32)
    for strategy in (Greedy(), Beam(size=2)):
        a = ensemble.generate(short, strategy=strategy, max_length=MAX)
        b = ensemble.generate(padded, strategy=strategy, max_length=MAX)
        n = int(a["lengths"][0])
        assert int(b["lengths"][0]) == n
        np.testing.assert_array_equal(a["ids"][0, :n], b["ids"][0, :n])
        np.testing.assert_allclose(a["scores"][0], b["scores"][0], atol=1e-5)


def test_sampling_and_prefixes_work_unchanged(members, sources):
    ensemble = Ensemble(members)
    first = ensemble.generate(sources, strategy=Sample(seed=3, top_k=4), max_length=MAX)
    again = ensemble.generate(sources, strategy=Sample(seed=3, top_k=4), max_length=MAX)
    np.testing.assert_array_equal(first["ids"], again["ids"])
    prefix = np.array([[9, 8], [0, 0], [4, 0], [0, 0], [6, 6], [0, 0]], np.int32)
    out = ensemble.generate(sources, strategy=Beam(size=2), max_length=MAX,
                            target_prefix=prefix)
    for b, row in enumerate(prefix[:-1]):
        forced = [t for t in row if t]
        assert out["ids"][b, :len(forced)].numpy().tolist() == forced


def test_config_round_trip(members, sources):
    ensemble = Ensemble(members, weights=WEIGHTS)
    config = ensemble.get_config()
    assert config["weights"] == pytest.approx([0.5, 0.3, 0.2])
    copy = Ensemble.from_config(keras.saving.serialize_keras_object(ensemble)["config"])
    copy.build()
    for a, b in zip(copy.members, members):
        a.set_weights(b.get_weights())
    np.testing.assert_allclose(copy.generate(sources, max_length=MAX)["scores"],
                               ensemble.generate(sources, max_length=MAX)["scores"], atol=1e-5)
    for layer in (ensemble.encoder, ensemble.decoder):
        again = type(layer).from_config(layer.get_config())
        assert again.get_config() == layer.get_config()
    assert isinstance(copy.encoder, EnsembleEncoder)
    assert isinstance(copy.decoder, EnsembleDecoder)


def test_save_and_load(members, sources, tmp_path, recwarn):
    ensemble = Ensemble(members, weights=WEIGHTS)
    assert ensemble.built  # built members: Keras must not warn of an unbuilt model
    ensemble.save(tmp_path / "e.keras")
    assert not [w for w in recwarn if "not yet been built" in str(w.message)]
    loaded = keras.saving.load_model(tmp_path / "e.keras")
    assert isinstance(loaded, Ensemble)
    expected = ensemble.generate(sources, strategy=Beam(size=2), max_length=MAX)
    out = loaded.generate(sources, strategy=Beam(size=2), max_length=MAX)
    np.testing.assert_array_equal(out["ids"], expected["ids"])
    np.testing.assert_allclose(out["scores"], expected["scores"], atol=1e-5)


def test_the_members_variables_once():
    a, b = rnn_seq2seq(V, V, units=8), rnn_seq2seq(V, V, units=8, attention="bahdanau")
    ensemble = Ensemble([a, b])
    ensemble.build()
    assert len(ensemble.variables) == len(a.variables) + len(b.variables)
    assert {id(v) for v in ensemble.variables} == {id(v) for v in a.variables + b.variables}


def test_a_fit_step_trains_every_member():
    a, b = rnn_seq2seq(V, V, units=8), rnn_seq2seq(V, V, units=8, attention="luong")
    ensemble = Ensemble([a, b])
    ensemble.compile(keras.optimizers.Adam(1e-2), MaskedSparseCrossEntropy())
    x, y = reverse_task(64)
    ensemble.build()
    before = [m.get_weights() for m in (a, b)]
    assert all(before)
    history = ensemble.fit(x, y, batch_size=32, epochs=2, verbose=0)
    losses = history.history["loss"]
    assert np.isfinite(losses).all() and losses[-1] < losses[0]
    for member, weights in zip((a, b), before):
        assert any(not np.allclose(w, v) for w, v in zip(weights, member.get_weights()))


def test_members_are_checked():
    a = rnn_seq2seq(V, V, units=8)
    with pytest.raises(ValueError, match="argument `members`. Expected a non-empty list"):
        Ensemble([])
    with pytest.raises(ValueError, match="member 1 of type str"):
        Ensemble([a, "b"])
    with pytest.raises(ValueError, match="list the members of member 0"):
        Ensemble([Ensemble([a])])
    with pytest.raises(ValueError, match="member 1's target vocabulary has 15 ids, member 0's 14"):
        Ensemble([a, rnn_seq2seq(V, V + 1, units=8)])
    with pytest.raises(ValueError, match="member 1's source vocabulary has 13 ids"):
        Ensemble([a, rnn_seq2seq(V - 1, V, units=8)])
    for bad in ([1], [1, -1], [1, float("nan")], [1, True], "equal"):
        with pytest.raises(ValueError, match="argument `weights"):
            Ensemble([a, a], weights=bad)
    assert Ensemble([a, a], weights=[np.float32(1), np.int64(3)]).member_weights == [.25, .75]


def test_attention_controls_need_a_member_with_attention(sources):
    plain = Ensemble([trained_model("gru-plain"), trained_model("lstm-plain")])
    with pytest.raises(ValueError, match="`return_attention`. It needs a decoder with attention"):
        plain.generate(sources, return_attention=True)
    assert "attention" not in plain.decoder.state_spec()
    assert plain.generate(sources, max_length=MAX)["ids"].shape[0] == len(sources)


def test_the_ensemble_decoder_averages_the_members_first_step(members):
    """One step by hand: sum_i w_i log_softmax(logits_i), attention renormalised."""
    ensemble = Ensemble(members, weights=WEIGHTS)
    ids = np.array([[5, 6, 7, 0], [9, 8, 0, 0]], np.int32)
    encoded = ensemble.encoder(ids)
    logits, state = ensemble.decoder.step(
        tf.fill([2], BOS), ensemble.decoder.initial_state(encoded), encoded)
    expected, attention = 0.0, 0.0
    for member, w in zip(members, [.5, .3, .2]):
        mine = member.encoder(ids)
        out, s = member.decoder.step(tf.fill([2], BOS), member.decoder.initial_state(mine),
                                     mine)
        expected = expected + w * np.stack([log_softmax(r) for r in out.numpy()])
        if "attention" in s:
            attention = attention + (w / 0.5) * np.asarray(s["attention"])
    np.testing.assert_allclose(logits, expected, atol=1e-5)
    np.testing.assert_allclose(state["attention"], attention, atol=1e-6)
    np.testing.assert_allclose(np.sum(state["attention"], axis=1), 1.0, atol=1e-5)
