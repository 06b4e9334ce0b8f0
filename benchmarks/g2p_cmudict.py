"""G2P quality on the standard CMUdict split (Bisani & Ney, g014b2b).

Trains one keras_seq model on g014b2b.train for a time budget, decodes the
12,000 test words and prints WER and PER beside published single-model
numbers. Scoring follows the literature: a word is right when the output
equals any of its references; PER is the phoneme edit distance to the
closest reference over its length. No stress digits.

    python benchmarks/g2p_cmudict.py --train ../shared/g2p/g014b2b.train \
        --test ../shared/g2p/g014b2b.ref --model attention --minutes 60
"""

import argparse
import collections
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_seq  # noqa: E402
from keras_seq.cli.run_directory import MODEL, save_model  # noqa: E402
from keras_seq.training import CosineOverTime, TimeLimit  # noqa: E402
from keras_seq.data import make_dataset  # noqa: E402
from keras_seq.text import CharTokenizer, SymbolTokenizer  # noqa: E402

PUBLISHED = [  # (system, WER %) on this split, from ../shared/g2p/README.md
    ("joint-sequence n-gram (Sequitur)", "~24.5"),
    ("encoder-decoder LSTM, no attention", "~28.6"),
    ("bidirectional alignment LSTM", "23.6"),
    ("attention LSTM", "~21.7"),
    ("Transformer", "20.2-22.1"),
]

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--train", default="../shared/g2p/g014b2b.train")
parser.add_argument("--test", default="../shared/g2p/g014b2b.ref")
parser.add_argument("--model", default="attention", choices=("rnn", "attention", "transformer"))
parser.add_argument("--units", type=int, default=256)
parser.add_argument("--layers", type=int, default=2)
parser.add_argument("--minutes", type=float, default=60.0)
parser.add_argument("--batch-size", type=int, default=128)
parser.add_argument("--dropout", type=float, default=None,
                    help="defaults to 0.3 for RNNs (the recorded best) and 0.1 for the Transformer")
parser.add_argument("--learning-rate", type=float, default=1e-3)
parser.add_argument("--schedule", default="plateau", choices=("cosine", "plateau"),
                    help="cosine: warm up, then anneal to 0 over the time budget, keeping "
                         "the epoch of best validation sequence accuracy; "
                         "plateau: halve on a validation plateau and stop early")
parser.add_argument("--init", default=None, metavar="DIR",
                    help="start from DIR/model.keras (a finished run) instead of fresh weights "
                         "and train it further under this run's optimizer and schedule "
                         "(--model, --units, --layers and --dropout are then those saved)")
parser.add_argument("--ema", type=float, default=None, metavar="MOMENTUM",
                    help="keep an exponential moving average of the weights (e.g. 0.999); "
                         "validation, early stopping and the saved model use the average")
parser.add_argument("--method", default="beam", choices=("greedy", "beam"))
parser.add_argument("--beam-size", type=int, default=4)
parser.add_argument("--length-penalty", type=float, default=0.0,
                    help="GNMT alpha for ranking beams (0: plain log-probability)")
parser.add_argument("--load", default=None, nargs="+", metavar="DIR",
                    help="skip training and decode DIR/model.keras, saved by an earlier "
                         "run (the vocabularies are rebuilt from --train, as in that run); "
                         "several DIRs decode as one keras_seq.models.Ensemble. DIR+DIR+... "
                         "is one model: the mean of those runs' weights (for an ensemble "
                         "of averaged members)")
parser.add_argument("--average", action="store_true",
                    help="with several --load DIRs: decode the element-wise mean of their "
                         "weights (keras_seq.models.average_weights), not the ensemble")
parser.add_argument("--seed", type=int, default=0,
                    help="weights and shuffling (the validation split stays the same)")
parser.add_argument("--epochs", type=int, default=None,
                    help="stop after N epochs (or the time budget, whichever comes first): "
                         "an epoch budget that load on the machine cannot change")
parser.add_argument("--save-every-epoch", action="store_true",
                    help="also save each epoch's weights as SAVE/epoch-NNN/model.keras "
                         "(to average the last ones with --load ... --average)")
parser.add_argument("--export-tflite", default=None, metavar="PATH",
                    help="also export the decoded model (or ensemble) to this .tflite, "
                         "decode the test words through LiteRT and time it at batch 1 and 32")
parser.add_argument("--save", default="runs/g2p_benchmark",
                    help="directory for model.keras, written (atomically) before decoding")
parser.add_argument("--jit-compile", default="auto", choices=("auto", "on", "off"),
                    help="XLA for training. Keras' 'auto' turns it on wherever a GPU is "
                         "visible and the model allows it (the Transformer, RNNs off cuDNN); "
                         "XLA then compiles a step for every new batch shape, and the "
                         "bucketed batches here have many")
parser.add_argument("--limit-test", type=int, default=None, help="score only N test words")
args = parser.parse_args()
if args.average and (not args.load or len(args.load) < 2):
    parser.error("--average needs several --load DIRs")
if args.init and args.load:
    parser.error("--init (train a saved run further) and --load (only decode it) exclude each other")
if args.ema is not None and not 0 < args.ema < 1:
    parser.error(f"--ema must be a momentum between 0 and 1 exclusive (e.g. 0.999); got {args.ema}")
keras.utils.set_random_seed(args.seed)


def read_lexicon(path):
    """WORD<TAB>PRON[<TAB>PRON...] lines -> {word: [pron, ...]} (lower-cased)."""
    lexicon = collections.defaultdict(list)
    with open(path, encoding="utf-8") as f:
        for line in f:
            word, *prons = line.rstrip("\n").split("\t")
            lexicon[word.lower()] += [" ".join(p.split()) for p in prons]
    return lexicon


# 1. Data: every (word, pronunciation) pair of the training file is an example.
train = read_lexicon(args.train)
test = read_lexicon(args.test)
words = [w for w, prons in train.items() for _ in prons]
prons = [p for w in train for p in train[w]]
chars = CharTokenizer.from_corpus(words)
phones = SymbolTokenizer.from_corpus(prons)
rng = np.random.default_rng(0)
order = rng.permutation(len(words))
# A small validation set from the training file: 2,000 pairs of the
# standard split's 106,000 (a tenth of a smaller file).
held_size = min(2000, len(words) // 10)
held = order[:held_size]
fit_idx = order[held_size:]


def dataset(indices, shuffle):
    ws = [words[i] for i in indices]
    ps = [prons[i] for i in indices]
    return make_dataset(
        chars.tokenize(ws).numpy(),
        phones.tokenize(ps, add_bos=True).numpy(),
        phones.tokenize(ps, add_eos=True).numpy(),
        batch_size=args.batch_size,
        shuffle=shuffle,
    )


# 2. Model.
def build_model():
    if args.init:
        model = keras.saving.load_model(os.path.join(args.init, MODEL))
    elif args.model == "transformer":
        model = keras_seq.models.transformer_seq2seq(
            chars.vocab_size, phones.vocab_size, num_layers=args.layers, dim=args.units,
            num_heads=4, ff_dim=4 * args.units, max_length=40,
            dropout=0.1 if args.dropout is None else args.dropout)
    else:
        model = keras_seq.models.rnn_seq2seq(
            chars.vocab_size, phones.vocab_size, cell="lstm", units=args.units,
            num_layers=args.layers, bidirectional=True,
            dropout=0.3 if args.dropout is None else args.dropout,
            attention="bahdanau" if args.model == "attention" else None)
    ema = {"use_ema": True, "ema_momentum": args.ema} if args.ema else {}
    model.compile(keras.optimizers.Adam(args.learning_rate, clipnorm=1.0, **ema),
                  keras_seq.metrics.MaskedSparseCrossEntropy(label_smoothing=0.1),
                  metrics=[keras_seq.metrics.SequenceAccuracy()],
                  jit_compile={"auto": "auto", "on": True, "off": False}[args.jit_compile])
    return model


# 3. Train for the time budget, keeping the best validation weights.
def schedule_callbacks():
    """The learning-rate schedule and early stopping; the clock starts here.

    With --ema, SwapEMAWeights comes first: at each epoch's end the model
    holds the averaged weights, so the validation score, the plateau
    schedule and the best weights that early stopping restores at the end
    are all those of the average.
    """
    swap = [keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if args.ema else []
    if args.schedule == "cosine":
        # Keep the epoch with the best validation sequence accuracy: late in
        # a long run the label-smoothed loss rises with overconfidence while
        # the accuracy still improves.
        return swap + [CosineOverTime(args.learning_rate, args.minutes),
                       keras.callbacks.EarlyStopping("val_sequence_accuracy", mode="max",
                                                     patience=10_000, restore_best_weights=True)]
    return swap + [keras.callbacks.ReduceLROnPlateau(patience=2, factor=0.5),
                   keras.callbacks.EarlyStopping(patience=5, restore_best_weights=True)]


class SaveEveryEpoch(keras.callbacks.Callback):
    """`--save-every-epoch`: SAVE/epoch-NNN/model.keras after each epoch."""

    def on_epoch_end(self, epoch, logs=None):
        folder = os.path.join(args.save, f"epoch-{epoch + 1:03d}")
        os.makedirs(folder, exist_ok=True)
        save_model(self.model, folder)


def load(spec):
    """DIR -> its model; DIR+DIR+... -> the mean of their weights."""
    models = [keras.saving.load_model(os.path.join(folder, MODEL))
              for folder in spec.split("+")]
    return models[0] if len(models) == 1 else keras_seq.models.average_weights(models)


if args.load:
    members = [load(spec) for spec in args.load]
    if len(members) == 1:
        model = members[0]
    elif args.average:
        model = keras_seq.models.average_weights(members)
    else:
        model = keras_seq.models.Ensemble(members)
    kind = "average of" if args.average else "ensemble of" if len(members) > 1 else "loaded"
    trained = f"no training ({kind} {', '.join(args.load)})"
else:
    model = build_model()
    callbacks = schedule_callbacks()
    if args.save_every_epoch:
        callbacks.append(SaveEveryEpoch())
    start = time.time()
    history = model.fit(dataset(fit_idx, True), validation_data=dataset(held, False),
                        epochs=args.epochs or 10_000,
                        callbacks=[TimeLimit(args.minutes)] + callbacks, verbose=2)
    trained = (f"{(time.time() - start) / 60:.1f} min ({len(history.epoch)} epochs) "
               "of training")
    # Keep the trained model before decoding: a long run must not be lost to
    # a failure after training.
    os.makedirs(args.save, exist_ok=True)
    save_model(model, args.save)
    print(f"saved {os.path.join(args.save, MODEL)}")

# 4. Decode the test words and score them like the literature.
test_words = sorted(test)[: args.limit_test]
strategy = (keras_seq.decoding.Beam(size=args.beam_size, length_penalty=args.length_penalty)
            if args.method == "beam" else keras_seq.decoding.Greedy())
start = time.time()
outputs = []
for i in range(0, len(test_words), 500):
    ids = chars.tokenize(test_words[i : i + 500])
    out = model.generate(ids, strategy=strategy, max_length=40)
    outputs += [t.decode() for t in phones.detokenize(out["ids"], out["lengths"]).numpy()]
decode_seconds = time.time() - start
references = [test[w] for w in test_words]
wer = keras_seq.metrics.word_error_rate(outputs, references)
per = keras_seq.metrics.token_error_rate(outputs, references, tokenize="symbols")

print(f"\n| system | WER % | PER % |\n|---|---|---|")
for name, w in PUBLISHED:
    print(f"| {name} (published) | {w} | not given here |")
decoding = f"beam {args.beam_size}" if args.method == "beam" else "greedy"
if args.load:
    name = (("average of " if args.average else "ensemble of ") if len(args.load) > 1
            else "") + ", ".join(args.load)
else:
    name = (f"{args.init} trained further" if args.init
            else f"{args.model} ({args.units}x{args.layers})")
print(f"| keras_seq {name}, {decoding} | "
      f"{wer:.2f} | {per:.2f} |")


def decode_litert(runner, words, batch):
    """Outputs of the .tflite's `generate`, tokens/s and words/s (1 thread)."""
    decoded, tokens, seconds = [], 0, 0.0
    for i in range(0, len(words), batch):
        ids = chars.tokenize(words[i : i + batch]).numpy().astype(np.int32)
        begin = time.perf_counter()
        out = runner(encoder_ids=ids)
        seconds += time.perf_counter() - begin
        tokens += int(out["lengths"].sum())
        decoded += [t.decode() for t in phones.detokenize(out["ids"], out["lengths"]).numpy()]
    return decoded, tokens / seconds, len(words) / seconds


if args.export_tflite:
    from ai_edge_litert.interpreter import Interpreter

    keras_seq.export.export_tflite(model, args.export_tflite, strategy=strategy,
                                   max_length=40, overwrite=True)
    runner = Interpreter(args.export_tflite, num_threads=1).get_signature_runner("generate")
    lite, tokens_32, words_32 = decode_litert(runner, test_words, 32)
    _, tokens_1, words_1 = decode_litert(runner, test_words[:300], 1)
    lite_wer = keras_seq.metrics.word_error_rate(lite, references)
    lite_per = keras_seq.metrics.token_error_rate(lite, references, tokenize="symbols")
    print(f"| keras_seq {name}, {decoding}, exported {args.export_tflite} (LiteRT) | "
          f"{lite_wer:.2f} | {lite_per:.2f} |")
    same = np.mean([a == b for a, b in zip(lite, outputs)])
    print(f"\nLiteRT, 1 thread: batch 1 {words_1:.0f} words/s ({tokens_1:.0f} tokens/s), "
          f"batch 32 {words_32:.0f} words/s ({tokens_32:.0f} tokens/s); "
          f"{same:.1%} of its outputs equal Keras'")
print(f"Keras generate: {len(test_words) / decode_seconds:.0f} words/s (batches of 500)")
print(f"\n{len(test_words)} test words; {trained} on "
      f"{platform.processor() or platform.machine()} ({os.cpu_count()} cores); "
      f"goal WER <= 20.0 and PER <= 4.8: {'met' if wer <= 20 and per <= 4.8 else 'not met'}")
