"""The experiment behind attention: one fixed context vector vs. attention.

Run: `python examples/context_bottleneck.py` (tens of minutes on a laptop CPU;
`--minutes 3` gives each model three minutes instead of `--epochs`).
On `reverse` (a string of letters read backwards), with sources of 5 to
`--max-length` letters, train three models of the same width on the same
budget (the same epochs, or the same wall-clock minutes each):

- "RNN": an LSTM encoder-decoder whose decoder sees the source only through
  the encoder's final state, one fixed-size vector (Sutskever et al., 2014);
- "RNN+attention": the same, plus Bahdanau attention over every encoder
  position at every decoder step (Bahdanau et al., 2015);
- "Transformer": self- and cross-attention only (Vaswani et al., 2017).

Then decode the test split greedily, print exact match by source length and
draw it (PNG). The fixed vector has to hold the whole string, so the plain
RNN's accuracy falls as sources grow; attention reads the source back.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

import keras_seq  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--minutes", type=float, help="wall-clock budget per model instead of --epochs")
parser.add_argument("--examples", type=int, default=20000)
parser.add_argument("--min-length", type=int, default=5)
parser.add_argument("--max-length", type=int, default=60)
parser.add_argument("--units", type=int, default=128)
parser.add_argument("--batch-size", type=int, default=64)
parser.add_argument("--learning-rate", type=float, default=3e-3)
parser.add_argument("--out", default="context_bottleneck.png")
args = parser.parse_args()
keras.utils.set_random_seed(0)

# 1. Data: random letter strings and their reversals, split 80/10/10.
task = keras_seq.data.reverse(
    num_examples=args.examples,
    min_length=args.min_length,
    max_length=args.max_length,
    batch_size=args.batch_size,
)
vocab = task.source_tokenizer.vocab_size
print(task)

# 2. Three models, all `--units` wide.
models = {
    "RNN": keras_seq.models.rnn_seq2seq(vocab, vocab, cell="lstm", units=args.units),
    "RNN+attention": keras_seq.models.rnn_seq2seq(
        vocab, vocab, cell="lstm", units=args.units, attention="bahdanau"
    ),
    "Transformer": keras_seq.models.transformer_seq2seq(
        vocab,
        vocab,
        num_layers=2,
        dim=args.units,
        num_heads=4,
        ff_dim=2 * args.units,
        max_length=args.max_length + 2,  # BOS + target, or target + EOS
    ),
}


# 3. The wall-clock budget, when given: stop fit after `--minutes`.
class TimeBudget(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.deadline = time.time() + 60 * args.minutes

    def on_train_batch_end(self, batch, logs=None):
        if time.time() > self.deadline:
            self.model.stop_training = True


# 4. Train each model with the same optimizer, loss and budget.
seconds, epochs_run = {}, {}
for name, model in models.items():
    print(f"\n== {name}")
    model.compile(
        keras.optimizers.Adam(args.learning_rate, clipnorm=1.0),
        keras_seq.metrics.MaskedSparseCrossEntropy(),
        metrics=[keras_seq.metrics.SequenceAccuracy()],
    )
    start = time.time()
    history = model.fit(
        task.train,
        epochs=1000 if args.minutes else args.epochs,
        callbacks=[TimeBudget()] if args.minutes else [],
        verbose=2,
    )
    seconds[name] = time.time() - start
    epochs_run[name] = len(history.history["loss"])

# 5. Decode the test sources greedily, in chunks, and score them by length.
sources, references = task.sources["test"], task.references["test"]
encoder_ids = task.encode_sources(sources)
rows = None
for name, model in models.items():
    predictions = []
    for i in range(0, len(sources), 256):
        out = model.generate(encoder_ids[i : i + 256], max_length=args.max_length + 1)
        text = task.target_tokenizer.detokenize(out["ids"], out["lengths"]).numpy()
        predictions += [t.decode() for t in text]
    by_length = keras_seq.metrics.by_length(
        sources, predictions, references, metrics=("exact_match",)
    )
    if rows is None:
        rows = [{"bucket": r["bucket"], "count": r["count"]} for r in by_length]
    for row, scored in zip(rows, by_length):
        row[name] = scored["exact_match"]
    overall = keras_seq.metrics.exact_match(predictions, references)
    print(f"{name}: exact match {overall:.3f}, {model.count_params():,} parameters, "
          f"{epochs_run[name]} epochs in {seconds[name]:.0f} s")

# 6. The table: exact match per source-length bucket, one column per model.
print("\nexact match on the test split, by source length (letters)")
print(keras_seq.metrics.format_table(rows))

# 7. The plot: one line per model.
path = keras_seq.viz.plot_length_curve(
    {name: ([r["bucket"] for r in rows], [r[name] for r in rows]) for name in models},
    args.out,
    xlabel="source length (letters)",
    ylabel="exact match (test)",
    title=f"reverse, {args.units} units, same budget",
)
print(f"\nwrote {path}")
