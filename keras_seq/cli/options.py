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
