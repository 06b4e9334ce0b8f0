"""`keras-seq predict`: decode inputs with a run, a SavedModel or a .tflite."""

import itertools
import os
import sys
import unicodedata

import numpy as np

from keras_seq.cli import options
from keras_seq.cli import run_directory as rd
from keras_seq.cli.decode_texts import decode_texts
from keras_seq.cli.ensemble_runs import add_ensemble_options, load_runs
from keras_seq.cli.errors import CLIError
from keras_seq.cli.export_runners import SavedModelRunner, TFLiteRunner, check_graph
from keras_seq.text import lines as lines_lib


def add_parser(subparsers):
    p = subparsers.add_parser(
        "predict", help="decode inputs (arguments, --file or stdin)")
    p.add_argument("path", help="a run directory, a SavedModel version directory "
                                "or a .tflite file")
    p.add_argument("inputs", nargs="*")
    p.add_argument("--file", help="read one input per line from this file")
    add_ensemble_options(p)
    options.add_strategy_options(p)
    options.add_control_options(p)
    p.add_argument("--replace-unknown-target", action="store_true",
                   help="an unknown output token reads as the source token it attends to "
                        "most (run directories with attention; exports apply what "
                        "keras-seq export --replace-unknown-target fixed)")
    p.add_argument("--attention-plot", help="PNG of the first input's alignment "
                                            "(run directories only)")
    p.add_argument("--trust-graph", action="store_true",
                   help="run a SavedModel even if its graph holds ops that "
                        "keras-seq's exports never contain (file I/O, Python, ...)")
    p.set_defaults(run=run)


# Lines per request: well inside every export's default bounds. A request
# an artifact refuses or cuts is split further (`_SavedModelRunner`,
# `_TFLiteRunner`), so any bound set at export time is met.
CHUNK = 64


def read_inputs(args):
    """The inputs as an iterator of str, read lazily (one line per input).

    Files and stdin are read as `keras_seq.text.lines` reads every text: a
    byte order mark is dropped, lines end at "\n" (or "\r\n") only, and
    blank lines are inputs too (each gets its output line). Invalid UTF-8
    anywhere is a CLIError naming where.
    """
    if args.inputs:
        for number, text in enumerate(args.inputs, 1):
            # Python decodes argv with surrogateescape: invalid bytes come
            # back as lone surrogates, which no tokenizer can take.
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raw = os.fsencode(text)
                raise CLIError(f"input {number} is not valid UTF-8: {raw!r:.80}") from None
        return iter(args.inputs)
    if args.file:
        try:
            stream = open(args.file, "rb")
        except FileNotFoundError:
            raise CLIError(f"input file not found: {args.file}") from None
        where, what = repr(args.file), f"input file is not valid UTF-8: {args.file}"
        close = stream.close
    else:
        stream = getattr(sys.stdin, "buffer", None)
        if stream is None:  # a text stream without bytes (embedded use)
            stream = (line.encode("utf-8") for line in sys.stdin)
        where, what, close = "stdin", "stdin is not valid UTF-8", None
    lines = _stream_lines(stream, where, what, close)
    first = next(lines, None)
    if first is None:
        raise CLIError(f"no input: {args.file or 'stdin'} is empty")
    return itertools.chain([first], lines)


def _stream_lines(stream, where, what, close):
    try:
        for _, text in lines_lib.iter_lines(stream, where):
            yield text
    except lines_lib.LineNotUTF8Error as e:
        raise CLIError(f"{what} (line {e.number}: {e.detail})") from None
    finally:
        if close is not None:
            close()


def chunks(texts, size=CHUNK):
    """Lists of up to `size` consecutive items of an iterator."""
    while True:
        chunk = list(itertools.islice(texts, size))
        if not chunk:
            return
        yield chunk


def shown(text):
    """`text` with control characters escaped: one input, one output line."""
    return "".join(
        char.encode("unicode_escape").decode("ascii")
        if unicodedata.category(char) == "Cc" else char
        for char in text
    )


def plot_first_alignment(model, tokenizers, text, decoding, path):
    """Plot the weights the search itself used for `text`'s output.

    `decoding` is `(strategy, controls, max_source_length)`, as for the
    printed output, run through `generate(..., return_attention=True)`: the
    plot shows the search's own alignment, not a second, teacher-forced pass.
    """
    from keras_seq import viz

    if "attention" not in model.decoder.state_spec():
        raise CLIError("this model has no attention to plot (--model rnn)")
    source_tokenizer, target_tokenizer = tokenizers
    strategy, controls, max_source_length = decoding
    source_ids = source_tokenizer.tokenize([text], max_length=max_source_length)
    out = model.generate(source_ids, strategy=strategy,
                         **{**controls, "return_attention": True})
    length = int(out["lengths"][0])
    if length == 0:
        raise CLIError("the first output is empty: there is no alignment to plot")
    source_tokens = [source_tokenizer.vocabulary[i] for i in source_ids.numpy()[0]]
    target_tokens = [target_tokenizer.vocabulary[i] for i in out["ids"].numpy()[0, :length]]
    viz.plot_attention(np.asarray(out["attention"][0, :length]), source_tokens,
                       target_tokens, path, title=text)


def run(args):
    strategy = options.strategy(args)
    texts = read_inputs(args)
    path = args.path
    if args.attention_plot and not os.path.isfile(os.path.join(path, rd.CONFIG)):
        raise CLIError("--attention-plot needs a run directory")
    tflite = path.endswith(".tflite") and os.path.isfile(path)
    saved_model = not tflite and os.path.isfile(os.path.join(path, "saved_model.pb"))
    if (tflite or saved_model) and args.method != "greedy":
        raise CLIError("--method applies to run directories: an export decodes with the "
                       "strategy it was exported with (keras-seq export --method)")
    controls = options.controls(args)
    if (tflite or saved_model) and (args.ensemble or args.ensemble_weights):
        raise CLIError("--ensemble applies to run directories: export the ensemble "
                       "with keras-seq export --ensemble, then predict with the export")
    if (tflite or saved_model) and (controls or args.replace_unknown_target):
        raise CLIError("decoding controls (--min-length, ..., --replace-unknown-target) apply "
                       "to run directories: an export decodes with those it was exported "
                       "with (keras-seq export)")
    model = None
    if tflite:
        decode = TFLiteRunner(path)
    elif saved_model:
        if not args.trust_graph:
            check_graph(path)
        decode = SavedModelRunner(path)
    else:
        config, model, source_tokenizer, target_tokenizer = load_runs(path, args)

        def decode(chunk):
            # Sources are cut to the run's positions, as `keras-seq export` does.
            return decode_texts(model, source_tokenizer, target_tokenizer, chunk,
                                strategy=strategy, controls=controls,
                                max_source_length=config.get("max_length"),
                                replace_unknown_target=args.replace_unknown_target)
    first = None
    for chunk in chunks(texts):
        outputs, scores = decode(chunk)
        for text, output, score in zip(chunk, outputs, scores):
            print(f"{shown(text)}\t{shown(output)}\t{float(score):.4f}")
        sys.stdout.flush()
        first = first or (chunk[0], outputs[0])
    if args.attention_plot:  # after the predictions: a failure here loses none
        try:
            plot_first_alignment(model, (source_tokenizer, target_tokenizer), first[0],
                                 (strategy, controls, config.get("max_length")),
                                 args.attention_plot)
        except CLIError:
            raise
        except Exception as e:
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise CLIError(f"the predictions are above, but the attention plot "
                           f"{args.attention_plot} failed: {reason}") from None
