"""Seq2Seq.generate: one compiled graph, every decoder, strategy relations."""

import keras
import numpy as np
import pytest

from keras_seq.constants import EOS
from keras_seq.decoding import Beam, Greedy, Sample
from keras_seq.metrics import MaskedSparseCrossEntropy
from keras_seq.models import rnn_seq2seq, transformer_seq2seq

V = 12
FAMILIES = {
    "rnn": lambda: rnn_seq2seq(V, V, cell="gru", units=32),
    "bahdanau": lambda: rnn_seq2seq(V, V, cell="lstm", units=32, attention="bahdanau"),
    "luong": lambda: rnn_seq2seq(V, V, cell="gru", units=32, attention="luong"),
    "transformer": lambda: transformer_seq2seq(
        V, V, num_layers=1, dim=32, num_heads=2, ff_dim=64, max_length=16
    ),
}
_TRAINED = {}


def trained(name, copy_task):
    """A model trained briefly on the copy task (cached per module)."""
    if name not in _TRAINED:
        keras.utils.set_random_seed(0)
        model = FAMILIES[name]()
        model.compile(keras.optimizers.Adam(1e-2), MaskedSparseCrossEntropy())
        x, y = copy_task(1024)
        model.fit(x, y, batch_size=64, epochs=6, verbose=0)
        _TRAINED[name] = (model, x["encoder_ids"][:16])
    return _TRAINED[name]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_beam_of_one_equals_greedy(name, copy_task):
    model, source = trained(name, copy_task)
    greedy = model.generate(source)
    beam = model.generate(source, strategy=Beam(size=1))
    for key in ("ids", "lengths"):
        np.testing.assert_array_equal(beam[key], greedy[key])
    np.testing.assert_allclose(beam["scores"], greedy["scores"], atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_beam_scores_never_below_greedy(name, copy_task):
    model, source = trained(name, copy_task)
    greedy = model.generate(source)
    beam = model.generate(source, strategy=Beam(size=4))
    assert np.all(beam["scores"].numpy() >= greedy["scores"].numpy() - 1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_trained_model_copies_and_stops_at_eos(name, copy_task):
    model, source = trained(name, copy_task)
    out = model.generate(source)
    ids, lengths = out["ids"].numpy(), out["lengths"].numpy()
    source_lengths = (source != 0).sum(1)
    assert ids.shape[1] == lengths.max()
    assert np.all(ids[np.arange(ids.shape[1])[None] >= lengths[:, None]] == 0)
    assert not np.any(ids == EOS)
    correct = [
        np.array_equal(ids[i, : lengths[i]], source[i, : source_lengths[i]])
        for i in range(len(source))
    ]
    # The plain RNN squeezes the source through one vector and learns slower.
    assert np.mean(correct) >= (0.25 if name == "rnn" else 0.5), (ids, source)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_top_k_one_sampling_equals_greedy_and_seeds_repeat(name, copy_task):
    model, source = trained(name, copy_task)
    greedy = model.generate(source)
    top1 = model.generate(source, strategy=Sample(top_k=1, seed=5))
    np.testing.assert_array_equal(top1["ids"], greedy["ids"])
    a = model.generate(source, strategy=Sample(temperature=3.0, seed=11))
    b = model.generate(source, strategy=Sample(temperature=3.0, seed=11))
    c = model.generate(source, strategy=Sample(temperature=3.0, seed=12))
    np.testing.assert_array_equal(a["ids"], b["ids"])
    assert not np.array_equal(a["ids"], c["ids"])


def test_n_best_has_leading_axis_sorted_best_first(copy_task):
    x, _ = copy_task(3)
    model = FAMILIES["bahdanau"]()
    out = model.generate(x["encoder_ids"], strategy=Beam(size=4, num_return=3))
    assert out["ids"].shape[:2] == (3, 3)
    assert out["lengths"].shape == (3, 3) and out["scores"].shape == (3, 3)
    scores = out["scores"].numpy()
    assert np.all(np.diff(scores, axis=0) <= 1e-6)


def test_one_graph_for_all_batch_and_source_sizes(copy_task):
    model = FAMILIES["luong"]()
    x, _ = copy_task(5)
    model.generate(x["encoder_ids"][:2, :3])
    model.generate(x["encoder_ids"])
    # The same strategy by name, by value, with NumPy settings: one graph.
    model.generate(x["encoder_ids"], strategy=Greedy())
    functions = list(model._generate_functions.values())
    assert len(functions) == 1
    assert functions[0].experimental_get_tracing_count() == 1
    model.generate(x["encoder_ids"], strategy="beam")
    model.generate(x["encoder_ids"], strategy=Beam(size=np.int64(4), length_penalty=np.float32(0)))
    assert len(model._generate_functions) == 2


def test_strategy_by_name_equals_its_value(copy_task):
    x, _ = copy_task(3)
    model = FAMILIES["bahdanau"]()
    by_name = model.generate(x["encoder_ids"], strategy="beam")
    by_value = model.generate(x["encoder_ids"], strategy=Beam(size=4))
    for key in ("ids", "lengths", "scores"):
        np.testing.assert_array_equal(by_name[key], by_value[key])


def test_max_length_bounds_the_output(copy_task):
    x, _ = copy_task(4)
    out = FAMILIES["rnn"]().generate(x["encoder_ids"], max_length=2)
    assert out["ids"].shape[1] <= 2 and np.all(out["lengths"].numpy() <= 2)


def test_generate_errors_name_the_argument(copy_task):
    x, _ = copy_task(2)
    model = FAMILIES["transformer"]()
    with pytest.raises(ValueError, match="`strategy`.*'beam', 'greedy', 'sample'.*'topk'"):
        model.generate(x["encoder_ids"], strategy="topk")
    with pytest.raises(ValueError, match="`max_length`"):
        model.generate(x["encoder_ids"], max_length=17)
    with pytest.raises(ValueError, match="`num_return`.*at most `size`"):
        model.generate(x["encoder_ids"], strategy=Beam(size=2, num_return=3))
    with pytest.raises(ValueError, match="Unknown keyword argument `method`.*min_length"):
        model.generate(x["encoder_ids"], method="beam")
    with pytest.raises(TypeError, match="`encoder_ids`"):
        model.generate(x["encoder_ids"].astype("float32"))
