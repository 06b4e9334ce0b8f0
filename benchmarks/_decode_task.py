"""The task and models the decode benchmarks share.

Each family (plain LSTM, Bahdanau LSTM, Luong GRU, Transformer) is trained
briefly on a reverse task (so that it emits EOS where a real model would);
`time_runtimes` times several runtimes of one model over the same batches,
turn by turn. Used by decode_latency.py, ensemble_overhead.py,
litert_roofline.py, litert_step_profile.py and the LiteRT probes
(_litert_probes.py); imports no benchmark script.
"""

import time

import keras
import numpy as np

import keras_seq
from keras_seq.constants import BOS, EOS

VOCAB = 30  # ids 4..29 are symbols
MIN_LENGTH, MAX_LENGTH = 5, 20  # source lengths
TRAIN_EXAMPLES = 4096
BEAM_SIZE = 4
BATCH_SIZES = (1, 32)



def _rnn(cell, attention):
    return keras_seq.models.rnn_seq2seq(
        VOCAB, VOCAB, cell=cell, units=128, attention=attention
    )


def _transformer():
    return keras_seq.models.transformer_seq2seq(
        VOCAB, VOCAB, num_layers=2, dim=128, num_heads=4, ff_dim=256, max_length=64
    )


# family: (builder, Adam learning rate, epochs); about 2-3 minutes of training.
FAMILIES = {
    "rnn": (lambda: _rnn("lstm", None), 1e-2, 4),
    "bahdanau": (lambda: _rnn("lstm", "bahdanau"), 1e-2, 3),
    "luong": (lambda: _rnn("gru", "luong"), 1e-3, 5),
    "transformer": (_transformer, 1e-3, 5),
}


def reverse_task(n, seed):
    """Sources of 5-20 symbols; targets are the reversed source, then EOS."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(MIN_LENGTH, MAX_LENGTH + 1, n)
    source = np.zeros((n, MAX_LENGTH), "int32")
    decoder_in = np.zeros((n, MAX_LENGTH + 1), "int32")
    target = np.zeros((n, MAX_LENGTH + 1), "int32")
    for i, length in enumerate(lengths):
        symbols = rng.integers(4, VOCAB, length)
        source[i, :length] = symbols
        decoder_in[i, 0] = BOS
        decoder_in[i, 1 : length + 1] = symbols[::-1]
        target[i, :length] = symbols[::-1]
        target[i, length] = EOS
    return source, decoder_in, target, lengths


def make_batches(source, lengths, batch_size):
    """Consecutive sources, each batch cut to its longest source."""
    batches = []
    for start in range(0, len(source), batch_size):
        width = lengths[start : start + batch_size].max()
        batches.append(np.ascontiguousarray(source[start : start + batch_size, :width]))
    return batches


def train(name, epochs):
    builder, learning_rate, default_epochs = FAMILIES[name]
    keras.utils.set_random_seed(0)
    model = builder()
    model.compile(
        keras.optimizers.Adam(learning_rate, clipnorm=1.0),
        keras_seq.metrics.MaskedSparseCrossEntropy(),
    )
    source, decoder_in, target, _ = reverse_task(TRAIN_EXAMPLES, seed=0)
    start = time.perf_counter()
    history = model.fit(
        {"encoder_ids": source, "decoder_ids": decoder_in},
        target,
        batch_size=64,
        epochs=epochs or default_epochs,
        verbose=0,
    )
    return model, time.perf_counter() - start, history.history["loss"][-1]


def time_runtimes(run, batches):
    """Sentences per second of each runtime over `batches`, and its outputs.

    The runtimes take turns batch by batch, so a load change on a shared
    machine hits all of them alike; each is warmed up by one call first.
    """
    for call in run.values():
        call(batches[0])
    seconds = dict.fromkeys(run, 0.0)
    outputs = {runtime: [] for runtime in run}
    for batch in batches:
        for runtime, call in run.items():
            start = time.perf_counter()
            ids, lengths = call(batch)
            seconds[runtime] += time.perf_counter() - start
            outputs[runtime] += [tuple(ids[i, :n]) for i, n in enumerate(lengths)]
    sentences = sum(len(batch) for batch in batches)
    return {runtime: sentences / seconds[runtime] for runtime in run}, outputs


def quality(model, source, lengths):
    """Exact-match rate, mean length error and mean length of greedy output."""
    out = model.generate(source)
    ids, got = out["ids"].numpy(), out["lengths"].numpy()
    exact = np.mean(
        [
            got[i] == n and np.array_equal(ids[i, :n], source[i, :n][::-1])
            for i, n in enumerate(lengths)
        ]
    )
    return exact, np.mean(np.abs(got - lengths)), np.mean(got)


def forbid_eos(model):
    """Set `model`'s EOS logit bias to -1e4 (built model): an untrained model
    then never ends, and every output has `max_length` tokens. Returns it."""
    bias = model.decoder.output_projection.bias
    value = keras.ops.convert_to_numpy(bias)
    value[EOS] = -1e4
    bias.assign(value)
    return model

