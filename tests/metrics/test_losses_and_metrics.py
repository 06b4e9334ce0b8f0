"""PAD-aware loss and accuracies against known values."""

import keras
import numpy as np
import pytest

from keras_seq.metrics import MaskedSparseCrossEntropy, SequenceAccuracy, TokenAccuracy

RNG = np.random.default_rng(0)
LOGITS = RNG.normal(size=(2, 3, 5)).astype("float32")
LABELS = np.array([[1, 4, 0], [2, 0, 0]], "int32")


def np_log_softmax(x):
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_loss_matches_numpy_and_ignores_pad(smoothing):
    logp = np_log_softmax(LOGITS)
    real = LABELS != 0
    target = np.eye(5)[LABELS] * (1 - smoothing) + smoothing / 5
    per_token = -(target * logp).sum(-1)
    expected = per_token[real].mean()
    loss = MaskedSparseCrossEntropy(label_smoothing=smoothing)(LABELS, LOGITS)
    np.testing.assert_allclose(loss, expected, rtol=1e-5)
    # Changing logits at PAD positions changes nothing.
    changed = LOGITS.copy()
    changed[~real] = 100.0
    np.testing.assert_allclose(
        MaskedSparseCrossEntropy(label_smoothing=smoothing)(LABELS, changed),
        expected,
        rtol=1e-5,
    )


def test_all_pad_batch_gives_zero_not_nan():
    loss = MaskedSparseCrossEntropy()(np.zeros((2, 3), "int32"), LOGITS)
    assert float(loss) == 0.0


def test_loss_config_round_trip():
    loss = MaskedSparseCrossEntropy(label_smoothing=0.2)
    clone = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(loss)
    )
    assert clone.label_smoothing == 0.2
    np.testing.assert_allclose(clone(LABELS, LOGITS), loss(LABELS, LOGITS))


def test_token_and_sequence_accuracy_known_values():
    labels = np.array([[4, 5, 3, 0], [4, 6, 3, 0], [0, 0, 0, 0]], "int32")
    predicted = np.array([[4, 5, 3, 9], [4, 5, 3, 9], [1, 1, 1, 1]])
    logits = np.eye(10)[predicted].astype("float32")
    token = TokenAccuracy()
    token.update_state(labels, logits)
    assert float(token.result()) == pytest.approx(5 / 6)
    sequence = SequenceAccuracy()
    sequence.update_state(labels, logits)
    assert float(sequence.result()) == pytest.approx(1 / 2)
    for metric in (token, sequence):
        metric.reset_state()
        assert float(metric.result()) == 0.0
        clone = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(metric)
        )
        assert clone.name == metric.name
