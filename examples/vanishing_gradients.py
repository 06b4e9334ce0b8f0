"""How far back gradients reach in SimpleRNN, LSTM and GRU encoders.

Run: `python examples/vanishing_gradients.py` (about a minute on a laptop CPU).
Each encoder reads a random permutation of `--length` symbols and a linear
classifier on its final state must name the *first* symbol, so the loss
depends on the far end of the sequence. We plot the norm of d(loss)/d(x_t),
x_t the encoder's input embedding at position t, against the distance from
the end of the sequence (0 = last token), averaged over `--probe` examples:

- "init": the freshly initialised encoder;
- "trained": after `--steps` steps of plain SGD with a large learning rate;
- "trained+clip": the same training, but with `clipnorm` (Keras clips each
  variable's gradient to that norm before the SGD update).

Clipping does not act on the measured gradient (rescaling a gradient never
changes the ratio between positions); it changes the *weights* training
reaches. It bounds each update, a guard against exploding gradients, but it
cannot bring back a gradient that has vanished. The classifier need not learn
the task in `--steps` steps: the loss only gives the gradient a target.

How d(loss)/d(x_t) is read: the symbols of one example are all distinct, so
the gradient of the embedding table's row for the symbol at position t is
exactly d(loss)/d(x_t) for that example.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_seq  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--length", type=int, default=50)
parser.add_argument("--units", type=int, default=32)
parser.add_argument("--steps", type=int, default=300)
parser.add_argument("--batch-size", type=int, default=32)
parser.add_argument("--learning-rate", type=float, default=0.5)
parser.add_argument("--clipnorm", type=float, default=1.0)
parser.add_argument("--probe", type=int, default=16)
parser.add_argument("--out", default="vanishing_gradients.png")
args = parser.parse_args()
CELLS = ("simple_rnn", "lstm", "gru")
CONDITIONS = ("init", "trained", "trained+clip")

# 1. Data: each source is a permutation of the `length` symbols (ids 4...),
#    the label is its first symbol. Distinct symbols make step 4 exact.
rng = np.random.default_rng(0)


def make_batch(n):
    symbols = np.stack([rng.permutation(args.length) for _ in range(n)])
    return (symbols + 4).astype(np.int32), symbols[:, 0].astype(np.int32)


train_x, train_y = make_batch(args.steps * args.batch_size)
probe_x, probe_y = make_batch(args.probe)


# 2. Model: an RNNEncoder and a linear classifier on the final hidden state.
def build(cell):
    keras.utils.set_random_seed(0)  # the same start with and without clipping
    encoder = keras_seq.encoders.RNNEncoder(args.length + 4, args.units, cell=cell)
    ids = keras.Input((None,), dtype="int32")
    hidden = encoder(ids).state[-1][0]  # (B, U): the last layer's h
    logits = keras.layers.Dense(args.length)(hidden)  # (B, V)
    return encoder, keras.Model(ids, logits)


# 3. Train with plain SGD, with or without clipnorm.
def train(model, clipnorm):
    model.compile(
        keras.optimizers.SGD(args.learning_rate, clipnorm=clipnorm),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(train_x, train_y, batch_size=args.batch_size, verbose=0)


# 4. Measure: per example, the gradient rows of the symbols it contains.
def gradient_norms(encoder, model):
    @tf.function
    def per_position(ids, label):  # ids (1, S)
        with tf.GradientTape() as tape:
            loss = keras.losses.sparse_categorical_crossentropy(
                label, model(ids), from_logits=True
            )
        table = tf.convert_to_tensor(tape.gradient(loss, encoder.embedding.embeddings))
        return tf.norm(tf.gather(table, ids[0]), axis=-1)  # (S,)

    norms = [per_position(probe_x[i : i + 1], probe_y[i : i + 1]) for i in range(args.probe)]
    return np.mean(norms, axis=0)[::-1]  # index = distance from the end


# 5. Run every cell under the three conditions.
curves = {}
for cell in CELLS:
    encoder, model = build(cell)
    curves[cell, "init"] = gradient_norms(encoder, model)
    train(model, clipnorm=None)
    curves[cell, "trained"] = gradient_norms(encoder, model)
    encoder, model = build(cell)
    train(model, clipnorm=args.clipnorm)
    curves[cell, "trained+clip"] = gradient_norms(encoder, model)
    print(f"measured {cell}", flush=True)

# 6. Table: the norm at a few distances, and first/last = how much of the
#    gradient at the last token survives back to the first one.
far = args.length - 1
distances = sorted({0, 1, far // 4, far // 2, far})
print("\nnorm of d(loss)/d(x_t) by distance from the end")
print(f"{'cell':>10}  {'condition':>12}  " + "  ".join(f"{'d=' + str(d):>9}" for d in distances)
      + f"  {'first/last':>10}")
for (cell, condition), norms in curves.items():
    values = "  ".join(f"{norms[d]:9.2e}" for d in distances)
    print(f"{cell:>10}  {condition:>12}  {values}  {norms[far] / norms[0]:10.2e}")

# 7. Which cell loses its gradient fastest, per condition.
print()
for condition in CONDITIONS:
    ratios = {cell: curves[cell, condition][far] / curves[cell, condition][0] for cell in CELLS}
    ranked = ", ".join(f"{c} {r:.1e}" for c, r in sorted(ratios.items(), key=lambda kv: kv[1]))
    print(f"first/last, fastest vanishing first ({condition}): {ranked}")

# 8. Plot: one panel per cell, log scale, one line per condition.
figure, axes = plt.subplots(1, len(CELLS), figsize=(13, 4), sharey=True)
for ax, cell in zip(axes, CELLS):
    for condition, style in zip(CONDITIONS, ("-", "--", ":")):
        ax.semilogy(curves[cell, condition], style, label=condition)
    ax.set_title(cell)
    ax.set_xlabel("distance from the end of the sequence")
axes[0].set_ylabel("|| d loss / d x_t ||")
axes[0].legend()
figure.tight_layout()
figure.savefig(args.out, dpi=120)
print(f"\nwrote {args.out}")
