"""Training throughput: keras_seq against hand-written Keras / keras-hub models.

For each family it builds the keras_seq model and a hand-written model of
the same architecture (same widths, layers, attention, dropout) and trains
them in one process, taking turns epoch by epoch on the same batches, and
prints examples/s and the ratio keras_seq / hand-written. keras_seq runs
with its default kernel (`"auto"`: fused loops, cuDNN on a GPU) and, as a
second row, with the export-safe loops it trained with before the fast
kernel (`--no-export-row` leaves that out).

Families: `rnn` (no attention), `bahdanau` and `luong` (no input feeding;
the hand-written model runs Keras LSTMs then `AdditiveAttention` /
`Attention` over projected keys), `luong-feeding` (input feeding; the
hand-written decoder is a `keras.ops.scan` over LSTM cells and Keras'
`Attention`), `transformer` (keras-hub `TransformerEncoder` /
`TransformerDecoder` blocks).

    python benchmarks/train_throughput.py                       # all families, CPU sizes
    python benchmarks/train_throughput.py --families luong-feeding --rounds 5
    python benchmarks/train_throughput.py --policy mixed_float16 --jit-compile 1   # on a GPU
"""

import argparse
import os
import platform
import statistics
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
warnings.filterwarnings("ignore", message=".*does not support masking")

import keras  # noqa: E402
import keras_hub  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers, ops  # noqa: E402

import keras_seq  # noqa: E402
from keras_seq.layers.kernels import KERNELS, use_kernel  # noqa: E402

FAMILIES = ("rnn", "bahdanau", "luong", "luong-feeding", "transformer")
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=FAMILIES)
parser.add_argument("--units", type=int, default=256, help="RNN model width")
parser.add_argument("--layers", type=int, default=2, help="RNN layers")
parser.add_argument("--dim", type=int, default=256, help="Transformer width")
parser.add_argument("--transformer-layers", type=int, default=3)
parser.add_argument("--dropout", type=float, default=0.3)
parser.add_argument("--batch-size", type=int, default=256)
parser.add_argument("--source-length", type=int, default=22)
parser.add_argument("--target-length", type=int, default=21)
parser.add_argument("--batches", type=int, default=9, help="batches per timed epoch")
parser.add_argument("--rounds", type=int, default=3, help="timed epochs per model")
parser.add_argument("--policy", default="float32", choices=("float32", "mixed_float16"))
parser.add_argument("--jit-compile", type=int, default=0, choices=(0, 1))
parser.add_argument("--kernel", default="auto", choices=KERNELS,
                    help="keras_seq's kernel (`loop` for XLA on a GPU: cuDNN's op has no XLA kernel)")
parser.add_argument("--no-export-row", action="store_true")
parser.add_argument("--vocab-size", type=int, default=40)
args = parser.parse_args()
keras.mixed_precision.set_global_policy(args.policy)
V, U, L, DROP = args.vocab_size, args.units, args.layers, args.dropout
S, T = args.source_length, args.target_length


def batches():
    """Right-padded ids: lengths drawn from [length / 2, length]."""
    rng = np.random.default_rng(0)
    n = args.batch_size * args.batches

    def ids(length):
        out = rng.integers(4, V, (n, length)).astype("int32")
        lengths = rng.integers(length // 2, length + 1, n)
        out[np.arange(length)[None, :] >= lengths[:, None]] = 0
        return out

    target = ids(T)
    decoder_ids = np.concatenate([np.full((n, 1), 2, "int32"), target[:, :-1]], 1)
    decoder_ids[target == 0] = 0
    return {"encoder_ids": ids(S), "decoder_ids": decoder_ids}, target


# -- hand-written Keras models -------------------------------------------------
def keras_encoder(source):
    x = layers.Dropout(DROP)(layers.Embedding(V, U, mask_zero=True)(source))
    states = []
    for i in range(L):
        x, hf, cf, hb, cb = layers.Bidirectional(
            layers.LSTM(U // 2, return_sequences=True, return_state=True))(x)
        states.append([layers.Concatenate()([hf, hb]), layers.Concatenate()([cf, cb])])
        if i < L - 1:
            x = layers.Dropout(DROP)(x)
    return x, states


def keras_rnn(attention):
    source = keras.Input((None,), dtype="int32", name="encoder_ids")
    target = keras.Input((None,), dtype="int32", name="decoder_ids")
    memory, states = keras_encoder(source)
    y = layers.Dropout(DROP)(layers.Embedding(V, U, mask_zero=True)(target))
    for state in states:
        y = layers.LSTM(U, return_sequences=True)(y, initial_state=state)
    if attention == "bahdanau":
        query = layers.Dense(U, use_bias=False)(y)
        keys = layers.Dense(U, use_bias=False)(memory)
        context = layers.AdditiveAttention()([query, memory, keys])
    elif attention == "luong":
        keys = layers.Dense(U, use_bias=False)(memory)  # the "general" score
        context = layers.Attention()([y, memory, keys])
    if attention:
        y = layers.Dense(U, activation="tanh", use_bias=False)(
            layers.Concatenate()([y, context]))
    logits = layers.Dense(V, dtype="float32")(layers.Dropout(DROP)(y))
    return keras.Model({"encoder_ids": source, "decoder_ids": target}, logits)


class FeedingDecoder(layers.Layer):
    """Luong attention with input feeding, as one would write it in Keras 3."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.cells = [layers.LSTMCell(U) for _ in range(L)]
        self.keys = layers.Dense(U, use_bias=False)
        self.attention = layers.Attention()
        self.attentional = layers.Dense(U, activation="tanh", use_bias=False)

    def build(self, shapes):
        width = shapes[0][-1] + U
        for cell in self.cells:
            cell.build((None, width))
            width = U
        self.keys.build(shapes[1])
        self.attentional.build((None, 2 * U))

    def call(self, inputs):
        embedded, memory, memory_mask, *flat_states = inputs
        keys = self.keys(memory)

        def step(carry, x_t):  # carry: (feed, h_1, c_1, h_2, c_2, ...)
            h, new_states = ops.concatenate([x_t, carry[0]], -1), []
            for i, cell in enumerate(self.cells):
                h, state = cell(h, list(carry[1 + 2 * i: 3 + 2 * i]))
                new_states += list(state)
            context = self.attention(
                [h[:, None], memory, keys], mask=[None, memory_mask])[:, 0]
            attentional = self.attentional(ops.concatenate([h, context], -1))
            carry = (attentional, *new_states)
            return carry, carry  # Keras' scan: the outputs match the carry

        carry = (ops.zeros_like(flat_states[0]), *flat_states)
        _, outputs = ops.scan(step, carry, ops.transpose(embedded, (1, 0, 2)))
        return ops.transpose(outputs[0], (1, 0, 2))


def keras_luong_feeding():
    source = keras.Input((None,), dtype="int32", name="encoder_ids")
    target = keras.Input((None,), dtype="int32", name="decoder_ids")
    memory, states = keras_encoder(source)
    y = layers.Dropout(DROP)(layers.Embedding(V, U)(target))
    mask = ops.not_equal(source, 0)
    y = FeedingDecoder()([y, memory, mask] + [s for state in states for s in state])
    logits = layers.Dense(V, dtype="float32")(layers.Dropout(DROP)(y))
    return keras.Model({"encoder_ids": source, "decoder_ids": target}, logits)


def keras_hub_transformer():
    D, heads, ff = args.dim, 4, 4 * args.dim
    source = keras.Input((None,), dtype="int32", name="encoder_ids")
    target = keras.Input((None,), dtype="int32", name="decoder_ids")
    x = keras_hub.layers.TokenAndPositionEmbedding(V, S + 1, D, mask_zero=True)(source)
    for _ in range(args.transformer_layers):
        x = keras_hub.layers.TransformerEncoder(ff, heads, dropout=DROP)(x)
    y = keras_hub.layers.TokenAndPositionEmbedding(V, T + 1, D, mask_zero=True)(target)
    for _ in range(args.transformer_layers):
        y = keras_hub.layers.TransformerDecoder(ff, heads, dropout=DROP)(y, x)
    logits = layers.Dense(V, dtype="float32")(y)
    return keras.Model({"encoder_ids": source, "decoder_ids": target}, logits)


def keras_seq_model(family):
    if family == "transformer":
        return keras_seq.models.transformer_seq2seq(
            V, V, num_layers=args.transformer_layers, dim=args.dim, num_heads=4,
            ff_dim=4 * args.dim, max_length=max(S, T) + 1, dropout=DROP)
    attention = {"rnn": None, "luong-feeding": "luong"}.get(family, family)
    return keras_seq.models.rnn_seq2seq(
        V, V, cell="lstm", units=U, num_layers=L, bidirectional=True,
        attention=attention, dropout=DROP, input_feeding=family == "luong-feeding")


def hand_written(family):
    if family == "transformer":
        return keras_hub_transformer()
    if family == "luong-feeding":
        return keras_luong_feeding()
    return keras_rnn(None if family == "rnn" else family)


# -- measurement ---------------------------------------------------------------
class BatchClock(keras.callbacks.Callback):
    """Steady-state examples/s of one epoch: from the end of its first batch
    to the end of its last. Each `fit` call pays a fixed start-up cost (a few
    seconds for these graphs, whatever the kernel) that is not training."""

    def on_epoch_begin(self, epoch, logs=None):
        self.ends = []

    def on_train_batch_end(self, batch, logs=None):
        self.ends.append(time.perf_counter())

    def examples_per_second(self):
        return args.batch_size * (len(self.ends) - 1) / (self.ends[-1] - self.ends[0])


def compiled(model):
    model.compile(keras.optimizers.Adam(1e-3, clipnorm=1.0),
                  keras_seq.metrics.MaskedSparseCrossEntropy(),
                  jit_compile=bool(args.jit_compile))
    return model


def main():
    x, y = batches()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{len(tf.config.list_physical_devices('GPU'))} GPU(s); {args.policy}, "
          f"jit_compile={bool(args.jit_compile)}, kernel {args.kernel}; batch {args.batch_size}, "
          f"S={S}, T={T}; RNN LSTM {L}x{U} (bidirectional encoder), "
          f"Transformer {args.transformer_layers}x{args.dim}; dropout {DROP}; "
          f"{args.batches} batches per epoch, {args.rounds} timed epochs each")
    print("| family | model | params | examples/s (median) | ratio to hand-written |")
    print("|---|---|--:|--:|--:|")
    for family in args.families:
        keras.utils.set_random_seed(0)
        runs = {"keras_seq": (args.kernel, keras_seq_model)}
        if not args.no_export_row and family != "transformer":
            runs["keras_seq, export-safe loops"] = ("export", keras_seq_model)
        runs["hand-written"] = ("auto", hand_written)
        models = {}
        for name, (kernel, build) in list(runs.items()):
            try:
                with use_kernel(kernel):
                    models[name] = compiled(build(family))
                    models[name].fit(x, y, batch_size=args.batch_size, epochs=1,
                                     verbose=0, shuffle=False)  # trace and warm up
            except Exception as error:  # e.g. a loop that XLA cannot compile
                reason = str(error).strip().splitlines()[0][:120]
                print(f"| {family} | {name} | - | failed: {reason} | - |", flush=True)
                del runs[name]
        speeds = {name: [] for name in runs}
        for _ in range(args.rounds):  # take turns, epoch by epoch
            for name, (kernel, _) in runs.items():
                clock = BatchClock()
                with use_kernel(kernel):
                    models[name].fit(x, y, batch_size=args.batch_size, epochs=1,
                                     verbose=0, shuffle=False, callbacks=[clock])
                speeds[name].append(clock.examples_per_second())
        base = statistics.median(speeds["hand-written"]) if "hand-written" in runs else None
        for name in runs:
            speed = statistics.median(speeds[name])
            ratio = "-" if base is None else f"{speed / base:.2f}"
            print(f"| {family} | {name} | {models[name].count_params():,} | "
                  f"{speed:.0f} | {ratio} |", flush=True)


if __name__ == "__main__":
    main()
