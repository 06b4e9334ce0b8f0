"""Training speed of `make demo`'s model with each attention decoder recipe.

`make demo` (examples/g2p_cmudict.py) trains for a fixed 10 minutes, so its
quality is set by how many examples a second its model trains on. This
trains the demo's model (bidirectional LSTM encoder, LSTM decoder, batch
128, dropout 0.1, Adam 3e-3 with clipnorm 1) with Bahdanau or Luong
attention, with and without input feeding, on the same CMUdict batches
(`make_dataset`'s bucketed passes), taking turns in one process after a
warm-up, and prints examples/s against the demo's recipe of earlier
versions (Bahdanau with input feeding). Without input feeding no decoder
step waits for the previous step's attention, so the decoder's recurrence
runs in one fused kernel and attention covers all steps at once.

    python benchmarks/demo_recipes.py                 # about 2 minutes on 2 cores
    python benchmarks/demo_recipes.py --batches 40 --rounds 2 --max-words 20000
"""

import argparse
import os
import platform
import statistics

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

import keras_seq  # noqa: E402
from _fit_clock import FitClock  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--units", type=int, default=128)
parser.add_argument("--batch-size", type=int, default=128)
parser.add_argument("--batches", type=int, default=80, help="batches per timed round")
parser.add_argument("--rounds", type=int, default=3, help="timed rounds per recipe")
parser.add_argument("--max-words", type=int, default=None, help="subsample CMUdict")
args = parser.parse_args()

task = keras_seq.data.cmudict(max_words=args.max_words, test_size=1000,
                              batch_size=args.batch_size)
chars, phones = task.source_tokenizer, task.target_tokenizer
# (attention, input feeding); the first is the baseline, the last the demo's.
RECIPES = (("bahdanau", True), ("luong", True), ("bahdanau", False), ("luong", False))
NOTES = {RECIPES[0]: " (the demo before; baseline)", RECIPES[-1]: " (the demo)"}


def name(attention, input_feeding):
    label = f"{attention}, {'with' if input_feeding else 'no'} input feeding"
    return label + NOTES.get((attention, input_feeding), "")


def build(attention, input_feeding):
    keras.utils.set_random_seed(0)
    model = keras_seq.models.rnn_seq2seq(
        chars.vocab_size, phones.vocab_size, cell="lstm", units=args.units,
        bidirectional=True, attention=attention, dropout=0.1, input_feeding=input_feeding)
    model.compile(keras.optimizers.Adam(3e-3, clipnorm=1.0),
                  keras_seq.metrics.MaskedSparseCrossEntropy())
    return model


models = {name(*recipe): build(*recipe) for recipe in RECIPES}
batches = int(task.train.cardinality())  # make_dataset states it
for model in models.values():  # traces the steps for the batches' widths
    keras_seq.data.set_epoch(task.train, 0)
    model.fit(task.train.take(40), verbose=0, shuffle=False)
rates = {label: [] for label in models}
for round_ in range(1, args.rounds + 1):
    for label, model in models.items():
        # Every recipe of a round trains on the same batches (the first of
        # pass `round_`'s shuffled order); each round on other ones.
        keras_seq.data.set_epoch(task.train, round_)
        clock = FitClock(args.batch_size)
        model.fit(task.train.take(args.batches + 1), verbose=0, shuffle=False,
                  callbacks=[clock])
        rates[label].append(clock.rate)

print(f"{platform.machine()}, {os.cpu_count()} cores; CMUdict train split, {batches} "
      f"batches of {args.batch_size}; demo model, LSTM {args.units}; {args.rounds} "
      f"rounds of {args.batches} batches each, taking turns")
print("| decoder | params | training examples/s, median (range) | ratio |")
print("|---|--:|--:|--:|")
base = statistics.median(rates[name(*RECIPES[0])])
for label, model in models.items():
    rate = statistics.median(rates[label])
    print(f"| {label} | {model.count_params():,} | {rate:.0f} "
          f"({min(rates[label]):.0f}-{max(rates[label]):.0f}) | {rate / base:.2f} |")
