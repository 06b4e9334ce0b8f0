"""The `keras-seq` command: train, evaluate, predict, export, average."""

import os
import sys

from keras_seq.cli.errors import CLIError


def build_parser():
    from keras_seq.cli import average, evaluate, export, options, predict, train

    parser = options.OneLineParser(
        prog="keras-seq",
        description="Train, evaluate, run, export and average seq2seq models.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in (train, evaluate, predict, export, average):
        module.add_parser(subparsers)
    return parser


def main(argv=None):
    """Entry point; user errors print one line on stderr and exit with 2."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    try:
        status = args.run(args)
    except CLIError as e:
        print(f"keras-seq: error: {e}", file=sys.stderr)
        return 2
    except (ValueError, OSError) as e:  # bad data, unreadable files
        message = str(e).strip().splitlines()
        print(f"keras-seq: error: {message[0] if message else type(e).__name__}",
              file=sys.stderr)
        return 2
    except Exception as e:
        tf = sys.modules.get("tensorflow")
        if tf is None or not isinstance(e, tf.errors.ResourceExhaustedError):
            raise
        # A full disk (or memory) while TensorFlow writes: every write is
        # atomic, so what was there before is intact.
        message = str(e).strip().splitlines()
        print(f"keras-seq: error: out of disk space or memory: "
              f"{message[0] if message else type(e).__name__}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("keras-seq: interrupted", file=sys.stderr)
        return 130
    return status if isinstance(status, int) else 0


if __name__ == "__main__":
    sys.exit(main())
