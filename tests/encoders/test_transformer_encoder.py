import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_seq.encoders.encoder_output import EncoderOutput
from keras_seq.encoders.transformer_encoder import TransformerEncoder
from testing import run_layer_test

SRC = np.array([[5, 7, 9, 3, 0], [4, 6, 3, 0, 0], [8, 9, 10, 11, 3]],
               dtype="int32")
CONFIG = dict(vocab_size=20, num_layers=2, dim=8, num_heads=2, ff_dim=16,
              max_length=8)


def make(**kwargs):
    encoder = TransformerEncoder(**{**CONFIG, **kwargs})
    encoder.build()
    return encoder


def test_output_structure():
    encoder = make()
    output = encoder(SRC)
    assert isinstance(output, EncoderOutput)
    assert output.sequence.shape == (3, 5, 8)
    assert output.sequence.dtype == "float32"
    assert output.state == ()
    np.testing.assert_array_equal(output.padding_mask, SRC != 0)


@pytest.mark.parametrize("normalize_first", [False, True])
def test_weights_exist_before_first_call(normalize_first):
    encoder = make(normalize_first=normalize_first)
    count = len(encoder.weights)
    # embedding + 2 blocks x (4 attention x 2 + 2 norms x 2 + 2 dense x 2)
    # + a final norm with pre-norm.
    assert count == 1 + 2 * 16 + 2 * normalize_first
    encoder(SRC)
    assert len(encoder.weights) == count


@pytest.mark.parametrize("normalize_first", [False, True])
@pytest.mark.parametrize("positions", ["sinusoidal", "learned"])
def test_appended_padding_leaves_real_positions_unchanged(normalize_first,
                                                          positions):
    encoder = make(normalize_first=normalize_first, positions=positions)
    short = encoder(SRC).sequence.numpy()
    long = encoder(np.pad(SRC, [(0, 0), (0, 3)])).sequence.numpy()
    real = SRC != 0
    np.testing.assert_allclose(long[:, :5][real], short[real], atol=1e-5)


def test_final_norm_only_with_pre_norm():
    assert make(normalize_first=False).final_norm is None
    pre = make(normalize_first=True)
    assert pre.final_norm is not None
    out = pre(SRC).sequence.numpy()
    # Unit-variance features: the final layer norm ran (gamma=1, beta=0).
    np.testing.assert_allclose(out.std(-1), 1.0, atol=1e-3)


def test_dropout_only_in_training():
    encoder = make(dropout=0.5)
    a = encoder(SRC).sequence
    np.testing.assert_array_equal(a, encoder(SRC, training=False).sequence)
    assert not np.allclose(a, encoder(SRC, training=True).sequence)


def test_functional_model():
    encoder = make()
    ids = keras.Input((None,), dtype="int32")
    output = encoder(ids)
    model = keras.Model(ids, [output.sequence, output.padding_mask])
    sequence, mask = model(SRC)
    np.testing.assert_allclose(sequence, encoder(SRC).sequence, atol=1e-6)
    np.testing.assert_array_equal(mask, SRC != 0)


def test_id_errors():
    encoder = make()
    with pytest.raises(TypeError, match="`encoder_ids`"):
        encoder(SRC.astype("float32"))
    with pytest.raises(ValueError, match="`encoder_ids`.*rank-2"):
        encoder(SRC[0])


def test_too_long_source_static():
    encoder = make()
    with pytest.raises(ValueError, match="`encoder_ids`.*`max_length`=8"):
        encoder(np.ones((1, 9), "int32"))


def test_too_long_source_dynamic():
    encoder = make()
    encode = tf.function(
        lambda ids: encoder(ids).sequence,
        input_signature=[tf.TensorSpec([None, None], tf.int32)],
    )
    assert encode(np.ones((1, 8), "int32")).shape == (1, 8, 8)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="`encoder_ids`.*`max_length`"):
        encode(np.ones((1, 9), "int32"))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="argument `positions`.*'rotary'"):
        TransformerEncoder(**CONFIG, positions="rotary")
    with pytest.raises(ValueError, match="`num_heads`"):
        TransformerEncoder(**{**CONFIG, "num_heads": 3})
    with pytest.raises(ValueError, match="argument `num_layers`"):
        TransformerEncoder(**{**CONFIG, "num_layers": 0})
    with pytest.raises(ValueError, match="argument `dropout`"):
        TransformerEncoder(**CONFIG, dropout=-0.1)


@pytest.mark.parametrize("normalize_first,positions",
                         [(False, "sinusoidal"), (True, "learned")])
def test_layer_checks(normalize_first, positions):
    """Config values, then the shared checks: JSON round trip, build()
    creates every weight, symbolic == eager, mixed precision."""
    def new():  # unbuilt: the checks build it
        return TransformerEncoder(**CONFIG, normalize_first=normalize_first,
                                  positions=positions, dropout=0.1)

    config = new().get_config()
    for key, value in {**CONFIG, "dropout": 0.1, "positions": positions,
                       "normalize_first": normalize_first}.items():
        assert config[key] == value
    output = run_layer_test(new, (SRC,))
    assert output.sequence.shape == (*SRC.shape, CONFIG["dim"])


def test_config_saved_before_the_rename_loads():
    """Configs saved when `positions` was called `embedding` still load."""
    config = make(positions="learned").get_config()
    config["embedding"] = config.pop("positions")
    clone = TransformerEncoder.from_config(config)
    assert clone.positions == "learned" and "embedding" not in clone.get_config()
