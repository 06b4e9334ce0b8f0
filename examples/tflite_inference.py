"""Run an exported keras_seq .tflite file as an app would: LiteRT and NumPy.

Run: `python examples/tflite_inference.py model.tflite --vocab model.vocab
hello world` (texts, read with the vocabulary file written by
`tokenizer.save_vocabulary`), or `python examples/tflite_inference.py
model.tflite "5 6 7" "8 9"` (source ids). Make the file with
`keras_seq.export.export_tflite(model, "model.tflite")`.

Nothing here imports TensorFlow or keras_seq. Top to bottom: turn the inputs
into padded int32 ids, decode them with the `generate` signature (the whole
loop inside the file), then decode them again with a greedy loop written
here over `encode` and `decode_step`, the way an app puts each step on a
GPU/NPU delegate (delegates do not run WHILE), and check that both agree.
They agree for a greedy export; a beam export's `generate` may differ from
the greedy loop. For an export with `max_length`, pass the same
`--max-length`.
"""

import argparse
import unicodedata

import numpy as np
from ai_edge_litert.interpreter import Interpreter

PAD, UNK, BOS, EOS = 0, 1, 2, 3  # keras_seq's special ids

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("model", help="the .tflite file")
parser.add_argument("sources", nargs="+", help="texts with --vocab, else ids '5 6 7'")
parser.add_argument("--vocab", help="vocabulary file, one character per line")
parser.add_argument("--max-length", type=int,
                    help="most steps, as exported; default 2 * S + 10 (a "
                    "Transformer: at most its max_length)")
args = parser.parse_args()

# 1. Inputs to ids: NFKC-normalised characters looked up in the vocabulary
#    (as keras_seq's CharTokenizer does), or the ids as given.
vocab = None
if args.vocab:
    with open(args.vocab, encoding="utf-8") as f:
        vocab = f.read().split("\n")[:-1]  # one token per line, id order
    lookup = {token: i for i, token in enumerate(vocab) if i > EOS}
    rows = [[lookup.get(c, UNK) for c in unicodedata.normalize("NFKC", text)]
            for text in args.sources]
else:
    try:
        rows = [[int(i) for i in text.split()] for text in args.sources]
    except ValueError:
        parser.error("without --vocab each source is a list of ids, e.g. '5 6 7'")
width = max(1, max(len(row) for row in rows))
encoder_ids = np.zeros((len(rows), width), np.int32)  # (B, S), PAD = 0
for i, row in enumerate(rows):
    encoder_ids[i, : len(row)] = row


def show(ids, lengths):
    # Ids up to each row's length; as text (PAD and BOS dropped) with a vocab.
    row = [int(i) for i in ids[:lengths]]
    if vocab is None:
        return row
    return "".join(vocab[i] if i < len(vocab) else "<unk>" for i in row if i not in (PAD, BOS))


def fit(runner, name, array):
    # Static exports (for delegates) fix B and S: pad or cut to their shape.
    shape = runner.get_input_details()[name]["shape_signature"]
    for axis, size in enumerate(shape[:2]):
        if size > 0 and array.shape[axis] != size:
            if axis == 0 and array.shape[0] > size:
                parser.error(f"this file decodes {size} sources at a time; "
                             f"received {array.shape[0]}")
            if array.shape[axis] > size:
                array = np.take(array, range(size), axis=axis)
            else:
                pad = [(0, 0)] * array.ndim
                pad[axis] = (0, size - array.shape[axis])
                array = np.pad(array, pad)
    return array


# 2. The file: three signatures and their inputs.
try:
    interpreter = Interpreter(args.model)
except ValueError as error:
    parser.error(f"cannot load {args.model}: {error}")
for name, io in interpreter.get_signature_list().items():
    print(f"{name}: {', '.join(io['inputs'])} -> {', '.join(io['outputs'])}")

# 3. `generate`: one call, the decoding loop runs inside the file.
generate = interpreter.get_signature_runner("generate")
generated = generate(encoder_ids=encoder_ids)

# 4. The app's loop: encode once, then one decode_step per token.
encode = interpreter.get_signature_runner("encode")
step = interpreter.get_signature_runner("decode_step")
file_ids = fit(encode, "encoder_ids", encoder_ids)
encoded = encode(encoder_ids=file_ids)
# The export's default limit: twice the source (as the file cuts it) + 10.
max_length = args.max_length or 2 * min(width, file_ids.shape[1]) + 10
state = {k: v for k, v in encoded.items() if k.startswith("state_")}
rows_in_file = encoded["memory"].shape[0]  # B, or the static batch
ids = np.full((rows_in_file,), BOS, np.int32)
done = np.zeros(rows_in_file, bool)
lengths = np.zeros(rows_in_file, np.int32)
scores = np.zeros(rows_in_file, np.float64)
tokens = []
for t in range(max_length):
    result = step(ids=ids, memory=encoded["memory"],
                  memory_mask=encoded["memory_mask"], **state)
    state = {k: v for k, v in result.items() if k.startswith("state_")}
    logits = result["logits"].astype(np.float64)  # (B, V)
    ids = logits.argmax(-1).astype(np.int32)  # greedy: the likeliest token
    log_probs = logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)
    # Rows already finished keep their score and length; EOS counts once.
    scores += np.where(done, 0.0, log_probs[np.arange(rows_in_file), ids])
    lengths += (~done & (ids != EOS)).astype(np.int32)
    tokens.append(np.where(done | (ids == EOS), PAD, ids))
    done |= ids == EOS
    if done.all():
        break
app_ids = np.stack(tokens, 1)  # (B, T)

# 5. Print both, row by row, and whether they agree.
agree = True
for i, source in enumerate(args.sources):
    g_len, a_len = int(generated["lengths"][i]), int(lengths[i])
    g, a = show(generated["ids"][i], g_len), show(app_ids[i], a_len)
    same = g == a and g_len == a_len
    agree &= same and abs(generated["scores"][i] - scores[i]) < 1e-3
    print(f"{source!r:>14}  generate: {g!r} ({generated['scores'][i]:.3f})  "
          f"app loop: {a!r} ({scores[i]:.3f})")
print(f"generate and the app loop agree: {agree}")
