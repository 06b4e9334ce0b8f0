"""`keras-seq export`: a run (or an ensemble of runs) to a SavedModel or a .tflite file."""

from keras_seq.cli import options
from keras_seq.cli.ensemble_runs import add_ensemble_options, load_runs
from keras_seq.cli.errors import CLIError


def add_parser(subparsers):
    p = subparsers.add_parser("export", help="export a run for serving")
    p.add_argument("run_dir")
    p.add_argument("--format", required=True, choices=("savedmodel", "tflite"))
    add_ensemble_options(p)
    options.add_strategy_options(p)
    options.add_control_options(p)
    p.add_argument("--replace-unknown-target", action="store_true",
                   help="an unknown output token reads as the source token it attends "
                        "to most (models with attention)")
    p.add_argument("--quantization", choices=("dynamic", "float16", "int8"))
    p.add_argument("--overwrite", action="store_true",
                   help="replace --out if it is an export of the same kind "
                        "that keras-seq wrote (anything else is refused)")
    p.add_argument("--out", required=True,
                   help="saved_models/NAME/VERSION, or a path ending in .tflite")
    p.set_defaults(run=run)


def run(args):
    # Both formats truncate sources to the run's positions (`max_length` in
    # config.json), as `keras-seq predict` on the run directory does.
    from keras_seq.export import export_saved_model, export_tflite
    from keras_seq.export.tflite import check_target
    from keras_seq.export.tflite_sidecars import check_sidecars_free

    strategy = options.strategy(args)
    controls = options.controls(args)
    config, model, source_tokenizer, target_tokenizer = load_runs(args.run_dir, args)
    if args.format == "savedmodel":
        if args.quantization:
            raise CLIError("--quantization applies to --format tflite only")
        try:
            export_saved_model(model, args.out, source_tokenizer=source_tokenizer,
                               target_tokenizer=target_tokenizer,
                               strategy=strategy, overwrite=args.overwrite,
                               max_source_length=config.get("max_length"),
                               replace_unknown_target=args.replace_unknown_target,
                               **controls)
        except FileExistsError as e:
            raise CLIError(str(e)) from None
        print(f"wrote SavedModel {args.out}")
        return
    if not args.out.endswith(".tflite"):
        raise CLIError(f"--out for --format tflite must end in .tflite: {args.out}")
    try:  # before the conversion: refuse early, with nothing written
        check_target(args.out, args.overwrite)
        check_sidecars_free(args.out)
    except FileExistsError as e:
        raise CLIError(str(e)) from None
    representative = None
    if args.quantization == "int8":
        representative = source_tokenizer.tokenize(
            config.get("calibration_sources") or ["a"]).numpy()
    try:
        export_tflite(model, args.out, strategy=strategy,
                      quantization=args.quantization, representative_data=representative,
                      max_source_length=config.get("max_length"),
                      overwrite=args.overwrite, source_tokenizer=source_tokenizer,
                      target_tokenizer=target_tokenizer,
                      replace_unknown_target=args.replace_unknown_target, **controls)
    except FileExistsError as e:
        raise CLIError(str(e)) from None
    print(f"wrote {args.out} (and its vocabularies beside it)")
