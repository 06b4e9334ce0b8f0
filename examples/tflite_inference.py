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
GPU/NPU delegate (delegates do not run WHILE) and shows each token as it
comes (streaming), and check that both agree. They agree for a greedy
export; a beam export's `generate` may differ from the greedy loop.

The app loop applies the decoding controls itself, in keras_seq's order
(repetition penalty on the logits, then min length and n-gram blocking,
then the per-row bound, then the prefix). `generate` has them fixed at
export time, so pass the values the file was exported with: `--max-length`,
`--min-length`, `--max-length-a/-b`, `--no-repeat-ngram-size`,
`--repetition-penalty`. `--prefix` (one per source, in order) forces each
output's first tokens; `generate` then runs as `generate_prefix`, which an
export with `target_prefix=True` has.
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
parser.add_argument("--min-length", type=int, default=0)
parser.add_argument("--max-length-a", type=float, default=0.0)
parser.add_argument("--max-length-b", type=int, default=None)
parser.add_argument("--no-repeat-ngram-size", type=int, default=0)
parser.add_argument("--repetition-penalty", type=float, default=1.0)
parser.add_argument("--prefix", action="append", default=[],
                    help="forced first tokens of an output, one per source in order "
                         "(text with --vocab, else ids)")
args = parser.parse_args()

# 1. Inputs to ids: NFKC-normalised characters looked up in the vocabulary
#    (as keras_seq's CharTokenizer does), or the ids as given.
vocab = None
if args.vocab:
    with open(args.vocab, encoding="utf-8") as f:
        vocab = f.read().split("\n")[:-1]  # one token per line, id order
    lookup = {token: i for i, token in enumerate(vocab) if i > EOS}


def to_ids(texts):
    if vocab is not None:
        return [[lookup.get(c, UNK) for c in unicodedata.normalize("NFKC", text)]
                for text in texts]
    try:
        return [[int(i) for i in text.split()] for text in texts]
    except ValueError:
        parser.error("without --vocab each source or prefix is a list of ids, e.g. '5 6 7'")


def padded(rows):
    array = np.zeros((len(rows), max([1] + [len(row) for row in rows])), np.int32)
    for i, row in enumerate(rows):
        array[i, : len(row)] = row  # PAD = 0 after each row
    return array


rows = to_ids(args.sources)
encoder_ids = padded(rows)  # (B, S)
width = encoder_ids.shape[1]
if len(args.prefix) > len(rows):
    parser.error(f"{len(args.prefix)} prefixes for {len(rows)} sources")
prefixes = to_ids(args.prefix) + [[] for _ in range(len(rows) - len(args.prefix))]


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
if args.prefix:
    if "generate_prefix" not in interpreter.get_signature_list():
        parser.error("--prefix needs a file exported with target_prefix=True")
    generated = interpreter.get_signature_runner("generate_prefix")(
        encoder_ids=encoder_ids, prefix_ids=padded(prefixes))
else:
    generated = interpreter.get_signature_runner("generate")(encoder_ids=encoder_ids)


def choose(logits, history, t, source_length, prefix):
    """The controls on one row's logits, as keras_seq applies them: the
    log-probabilities the search may take (-1e9 where forbidden)."""
    logits = logits.copy()
    if args.repetition_penalty != 1:
        for token in set(history) - {PAD}:
            factor = 1 / args.repetition_penalty if logits[token] > 0 else args.repetition_penalty
            logits[token] *= factor
    log_probs = logits - np.logaddexp.reduce(logits)
    banned = np.zeros(len(logits), bool)
    if t < args.min_length:
        banned[EOS] = True
    n = args.no_repeat_ngram_size
    if n:  # every token that would complete an n-gram already in the output
        tail = history[t - n + 1:] if n > 1 else []
        for j in range(t - n + 1):
            if history[j: j + n - 1] == tail:
                banned[history[j + n - 1]] = True
    values = np.where(banned, -1e9, log_probs)
    if banned.all():
        values[EOS] = log_probs[EOS]  # nothing left: the row ends
    if args.max_length_a > 0 or args.max_length_b is not None:
        if t >= int(np.floor(args.max_length_a * source_length + (args.max_length_b or 0))):
            values = np.where(np.arange(len(values)) == EOS, log_probs, -1e9)
    if t < len(prefix):
        values = np.where(np.arange(len(values)) == prefix[t], log_probs, -1e9)
    return values


# 4. The app's loop: encode once, then one decode_step per token.
encode = interpreter.get_signature_runner("encode")
step = interpreter.get_signature_runner("decode_step")
file_ids = fit(encode, "encoder_ids", encoder_ids)
encoded = encode(encoder_ids=file_ids)
# The export's default limit: twice the source (as the file cuts it) + 10.
max_length = args.max_length or 2 * min(width, file_ids.shape[1]) + 10
state = {k: v for k, v in encoded.items() if k.startswith("state_")}
rows_in_file = encoded["memory"].shape[0]  # B, or the static batch
source_lengths = (file_ids != PAD).sum(1)
ids = np.full((rows_in_file,), BOS, np.int32)
done = np.zeros(rows_in_file, bool)
lengths = np.zeros(rows_in_file, np.int32)
scores = np.zeros(rows_in_file, np.float64)
histories = [[] for _ in range(rows_in_file)]
tokens = []
print("streaming (the app loop, one step at a time):")
for t in range(max_length):
    result = step(ids=ids, memory=encoded["memory"],
                  memory_mask=encoded["memory_mask"], **state)
    state = {k: v for k, v in result.items() if k.startswith("state_")}
    logits = result["logits"].astype(np.float64)  # (B, V)
    for i in range(rows_in_file):
        if done[i]:  # a finished row is fed EOS; its score stays
            ids[i] = EOS
            continue
        values = choose(logits[i], histories[i], t, source_lengths[i],
                        prefixes[i] if i < len(prefixes) else [])
        ids[i] = values.argmax()  # greedy: the likeliest allowed token
        scores[i] += values[ids[i]]  # EOS counts once
    new = ~done & (ids != EOS)
    lengths += new.astype(np.int32)
    for i in np.flatnonzero(new):
        histories[i].append(int(ids[i]))
    tokens.append(np.where(new, ids, PAD))
    shown = [f"{args.sources[i]!r}+{show(ids[i:i + 1], 1)!r}"
             for i in np.flatnonzero(new) if i < len(args.sources)]
    if shown:
        print(f"  step {t}: " + "  ".join(shown))
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
