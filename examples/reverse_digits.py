"""Train a tiny attention seq2seq to reverse digit strings, then decode.

Run: `python examples/reverse_digits.py` (or add `--epochs 2` for a quick look).
Top to bottom: make toy data, build and train a Bahdanau-attention LSTM with
`fit`, decode held-out strings in-graph (greedy and beam search), and export
to a SavedModel and a builtins-only TFLite file whose answers match Keras.
"""

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_seq  # noqa: E402
from keras_seq.text import CharTokenizer  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=12)
parser.add_argument("--examples", type=int, default=6000)
parser.add_argument("--units", type=int, default=64)
parser.add_argument("--max-length", type=int, default=10)
args = parser.parse_args()
keras.utils.set_random_seed(0)

# 1. Data: random digit strings and their reversals, as text.
rng = np.random.default_rng(0)
lengths = rng.integers(1, args.max_length + 1, args.examples + 10)
sources = ["".join(rng.choice(list("0123456789"), n)) for n in lengths]
targets = [s[::-1] for s in sources]
tokenizer = CharTokenizer.from_corpus(sources)  # <pad> <unk> <s> </s> 0..9

# 2. Ids: sources plain, decoder inputs BOS + target, labels target + EOS.
encoder_ids = tokenizer.tokenize(sources).numpy()
decoder_ids = tokenizer.tokenize(targets, add_bos=True).numpy()
labels = tokenizer.tokenize(targets, add_eos=True).numpy()
train = slice(0, args.examples)
held_out = slice(args.examples, None)

# 3. Model: bidirectional LSTM encoder, Bahdanau-attention LSTM decoder.
model = keras_seq.models.rnn_seq2seq(
    tokenizer.vocab_size,
    tokenizer.vocab_size,
    cell="lstm",
    units=args.units,
    bidirectional=True,
    attention="bahdanau",
)
model.compile(
    keras.optimizers.Adam(3e-3),
    keras_seq.metrics.MaskedSparseCrossEntropy(),
    metrics=[keras_seq.metrics.SequenceAccuracy()],
)

# 4. Train with plain fit.
start = time.time()
model.fit(
    {"encoder_ids": encoder_ids[train], "decoder_ids": decoder_ids[train]},
    labels[train],
    batch_size=64,
    epochs=args.epochs,
    validation_split=0.1,
    verbose=2,
)
print(f"trained in {time.time() - start:.0f} s")

# 5. Decode held-out strings in one TF graph: greedy and beam search.
greedy = model.generate(encoder_ids[held_out])
beam = model.generate(encoder_ids[held_out], strategy=keras_seq.decoding.Beam(size=4))
greedy_text = tokenizer.detokenize(greedy["ids"], greedy["lengths"]).numpy()
beam_text = tokenizer.detokenize(beam["ids"], beam["lengths"]).numpy()
print(f"\n{'source':>12}  {'expected':>12}  {'greedy':>12}  {'beam-4':>12}")
for i, source in enumerate(sources[args.examples :]):
    print(
        f"{source:>12}  {targets[args.examples + i]:>12}  "
        f"{greedy_text[i].decode():>12}  {beam_text[i].decode():>12}"
    )

# 6. Export: TF Serving SavedModel (text in, text out) and TFLite (ids).
with tempfile.TemporaryDirectory() as tmp:
    saved = keras_seq.export.export_saved_model(
        model, os.path.join(tmp, "reverse", "1"),
        source_tokenizer=tokenizer, target_tokenizer=tokenizer,
    )
    served = tf.saved_model.load(saved).signatures["serving_default"](
        text=tf.constant(sources[args.examples :])
    )["text"].numpy()
    lite_path = os.path.join(tmp, "reverse.tflite")
    operators = keras_seq.export.export_tflite(model, lite_path)
    from ai_edge_litert.interpreter import Interpreter

    lite = Interpreter(lite_path).get_signature_runner("generate")(
        encoder_ids=encoder_ids[held_out]
    )
    lite_text = tokenizer.detokenize(lite["ids"], lite["lengths"]).numpy()
    print(f"\nSavedModel agrees with Keras: {list(served) == list(greedy_text)}")
    print(f"TFLite agrees with Keras:     {list(lite_text) == list(greedy_text)}")
    print(f"TFLite ops (builtins only):   {', '.join(operators)}")
