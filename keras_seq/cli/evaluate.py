"""`keras-seq evaluate`: score a run on a split; table, JSON, length plot."""

import os

from keras_seq.cli import fingerprint, options
from keras_seq.cli import run_directory as rd
from keras_seq.cli.decode_texts import decode_texts
from keras_seq.cli.errors import CLIError

TEXT_TASKS = ("files", "tsv")


def add_parser(subparsers):
    p = subparsers.add_parser("evaluate", help="score a trained run on a split")
    p.add_argument("run_dir")
    p.add_argument("--split", default="test", choices=("train", "validation", "test"))
    options.add_strategy_options(p)
    options.add_control_options(p)
    p.add_argument("--replace-unknown-target", action="store_true",
                   help="an unknown output token reads as the source token it attends "
                        "to most (models with attention)")
    p.add_argument("--by-length", action="store_true",
                   help="also break scores down by source length, with a PNG plot")
    p.set_defaults(run=run)


def score(config, sources, predictions, references, by_length=False):
    """The metrics of a split, as a dict (and by-length rows)."""
    from keras_seq import metrics

    symbols = config["tokenizers"]["target"].get("class_name") != "CharTokenizer"
    unit = "symbols" if symbols else "chars"
    results = {
        "count": len(sources),
        "exact_match": 100.0 * metrics.exact_match(predictions, references),
        "wer": metrics.word_error_rate(predictions, references),
        ("per" if symbols else "cer"): metrics.token_error_rate(
            predictions, references, tokenize=unit),
    }
    if config.get("task") in TEXT_TASKS:
        results["bleu"] = metrics.corpus_bleu(predictions, references)
    rows = None
    if by_length:
        rows = metrics.by_length(sources, predictions, references, tokenize="chars",
                                 target_tokenize=unit)
    return results, rows


def run(args):
    from keras_seq import metrics, viz
    from keras_seq.data import load_task

    strategy = options.strategy(args)
    config, model, source_tokenizer, target_tokenizer = rd.load_run(args.run_dir)
    where = os.path.join(args.run_dir, rd.CONFIG)
    name = rd.field(config, "task", where)
    try:  # the paths in config.json are absolute: any working folder reads the same files
        task = load_task(name, **rd.field(config, "task_options", where))
    except TypeError as e:
        raise CLIError(f"{where}: 'task_options' do not fit task {name!r} ({e})") from None
    fingerprint.check_task(config, task, args.run_dir)
    sources = task.sources[args.split]
    references = task.references[args.split]
    if not sources:
        raise CLIError(f"the {args.split} split of this run is empty")
    predictions, _ = decode_texts(model, source_tokenizer, target_tokenizer, sources,
                                  strategy=strategy, controls=options.controls(args),
                                  replace_unknown_target=args.replace_unknown_target)
    results, rows = score(config, sources, predictions, references, args.by_length)
    results.update(split=args.split, method=args.method)
    print(metrics.format_table([{"metric": k, "value": v} for k, v in results.items()]))
    report = {"split": args.split, "method": args.method, "metrics": results}
    if rows is not None:
        print()
        print(metrics.format_table(rows))
        plot = os.path.join(args.run_dir, "accuracy_by_length.png")
        viz.plot_length_curve(
            {str(config.get("model", {}).get("model", "model")): ([row["bucket"] for row in rows],
                                        [row["exact_match"] for row in rows])},
            plot, xlabel="source length (characters)", ylabel="exact match")
        report["by_length"] = rows
        print(f"\nwrote {plot}")
    rd.write_json(os.path.join(args.run_dir, "metrics.json"), report)
