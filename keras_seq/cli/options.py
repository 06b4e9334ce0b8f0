"""Range-checked argparse types: every numeric CLI option says what it takes.

Each factory returns a `type=` callable for `add_argument`; a value out of
range, NaN or infinite becomes one line naming the option's accepted values
(argparse prefixes the option's name), exit status 2.
"""

import argparse
import math


def integer(minimum=None, maximum=None):
    """An int in [minimum, maximum] (either bound may be None)."""

    wanted = _range("an integer", minimum, maximum)

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or (minimum is not None and value < minimum) or (
                maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}")
        return value

    return parse


def real(minimum=None, maximum=None, above=None, below=None):
    """A finite float with optional inclusive (minimum/maximum) or strict
    (above/below) bounds."""
    wanted = _range("a finite number", minimum, maximum, above, below)

    def parse(text):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or any((
                minimum is not None and value < minimum,
                maximum is not None and value > maximum,
                above is not None and value <= above,
                below is not None and value >= below)):
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}")
        return value

    return parse


def _range(kind, minimum=None, maximum=None, above=None, below=None):
    parts = []
    if minimum is not None:
        parts.append(f">= {minimum}")
    if above is not None:
        parts.append(f"> {above}")
    if maximum is not None:
        parts.append(f"<= {maximum}")
    if below is not None:
        parts.append(f"< {below}")
    return kind + (" " + " and ".join(parts) if parts else "")


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr, exit status 2.

    (argparse's own errors print the whole usage first.) Subparsers made by
    `add_subparsers` are of this class too.
    """

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def add_strategy_options(parser):
    """`--method`, `--beam-size`, `--length-penalty`: one decoding strategy."""
    beam = _beam_defaults()
    parser.add_argument("--method", default="greedy", choices=("greedy", "beam"))
    parser.add_argument("--beam-size", type=integer(1, 1024), default=None,
                        help=f"beams for --method beam, 1 to 1024 (default {beam['size']})")
    parser.add_argument("--length-penalty", type=real(minimum=0), default=None,
                        help="GNMT length penalty alpha for --method beam, >= 0 "
                             f"(default {beam['length_penalty']})")


def strategy(args):
    """The `keras_seq.decoding` strategy that `add_strategy_options` asked for.

    Options left out take the strategy's own defaults; a beam option with
    `--method greedy` is refused in one line rather than ignored.
    """
    from keras_seq import decoding
    from keras_seq.cli.errors import CLIError

    settings = {"size": args.beam_size, "length_penalty": args.length_penalty}
    settings = {k: v for k, v in settings.items() if v is not None}
    if args.method == "beam":
        return decoding.Beam(**settings)
    if settings:
        raise CLIError("--beam-size and --length-penalty apply to --method beam "
                       f"(received --method {args.method})")
    return decoding.Greedy()


# The decoding controls the CLI offers: (option, Controls argument, type, help).
CONTROL_OPTIONS = (
    ("--min-length", "min_length", integer(0), "no output ends before this many tokens"),
    ("--max-length-a", "max_length_a", real(minimum=0),
     "with --max-length-b: at most floor(a * source tokens + b) output tokens"),
    ("--max-length-b", "max_length_b", integer(0), "see --max-length-a"),
    ("--no-repeat-ngram-size", "no_repeat_ngram_size", integer(0),
     "no n-gram of this size twice in an output"),
    ("--repetition-penalty", "repetition_penalty", real(above=0),
     "> 1 discourages repeated tokens (CTranslate2's rule)"),
)


def add_control_options(parser):
    """The decoding controls (`keras_seq.decoding.Controls`) as options."""
    for option, _, kind, text in CONTROL_OPTIONS:
        parser.add_argument(option, type=kind, default=None, help=text)


def controls(args):
    """`{Controls argument: value}` for the control options given."""
    return {name: getattr(args, name) for _, name, _, _ in CONTROL_OPTIONS
            if getattr(args, name) is not None}


def _beam_defaults():
    import inspect

    from keras_seq import decoding

    return {name: p.default for name, p in
            inspect.signature(decoding.Beam).parameters.items()}
