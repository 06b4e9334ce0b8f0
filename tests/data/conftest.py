"""Helpers for the data tests: read a task's datasets back as text."""

import numpy as np
import pytest

from keras_seq.constants import BOS, EOS, PAD


def decode_dataset(dataset, source_tokenizer, target_tokenizer):
    """Check each batch's conventions and return (sources, targets) as text."""
    sources, targets = [], []
    for inputs, target_ids in dataset:
        assert sorted(inputs) == ["decoder_ids", "encoder_ids"]
        encoder_ids = inputs["encoder_ids"].numpy()
        decoder_ids = inputs["decoder_ids"].numpy()
        target_ids = target_ids.numpy()
        for array in (encoder_ids, decoder_ids, target_ids):
            assert array.dtype == np.int32 and array.ndim == 2
        assert decoder_ids.shape == target_ids.shape
        assert not np.isin(encoder_ids, [BOS, EOS]).any()
        assert (decoder_ids[:, 0] == BOS).all()
        assert not (decoder_ids[:, 1:] == BOS).any()
        # target = decoder input shifted left, then EOS where the text ends.
        lengths = (target_ids != PAD).sum(axis=1)
        for row, length in enumerate(lengths):
            assert target_ids[row, length - 1] == EOS
            np.testing.assert_array_equal(
                target_ids[row, : length - 1], decoder_ids[row, 1:length]
            )
            assert (decoder_ids[row, length:] == PAD).all()
        texts = source_tokenizer.detokenize(encoder_ids).numpy()
        sources += [s.decode() for s in texts]
        targets += [t.decode() for t in target_tokenizer.detokenize(target_ids).numpy()]
    return sources, targets


@pytest.fixture
def decode():
    return decode_dataset
