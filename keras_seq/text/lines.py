"""The one way keras_seq reads UTF-8 text as lines.

Training data, vocabulary files and `keras-seq predict` inputs all read
lines here, so a file means the same number of lines everywhere:

- lines end with "\\n"; a "\\r" right before it is dropped too ("\\r\\n");
- no other character ends a line: U+2028, U+0085, form feed, vertical tab
  and the like stay inside their line (`str.splitlines` would split there);
- a final line break does not start an empty last line;
- a UTF-8 byte order mark at the very start is dropped, not read as text;
- a line that is not valid UTF-8 raises a `ValueError` naming where it is.
"""

import os

BOM = b"\xef\xbb\xbf"


class LineNotUTF8Error(ValueError):
    """A line is not valid UTF-8; `number` and `detail` say where and why."""

    def __init__(self, where, number, error):
        self.number = number
        self.detail = f"{error.reason} at byte {error.start} of the line"
        super().__init__(
            f"Line {number} of {where} is not valid UTF-8 ({self.detail}). "
            "Convert it to UTF-8 (e.g. with iconv) or fix that line.")


def iter_lines(stream, where):
    """Yield `(number, text)` for each line of a binary stream, lazily.

    Memory stays proportional to the longest line, not to the stream.

    Args:
        stream: a binary file object (`open(path, "rb")`, `sys.stdin.buffer`).
        where: str. How errors name the stream, e.g. `"'data.tsv'"` or
            `"stdin"`.

    Yields:
        `(number, text)`: the 1-based line number and the line as str,
        without its line break.

    Raises:
        ValueError: naming `where` and the line number when a line is not
            valid UTF-8.
    """
    for number, line in enumerate(stream, start=1):  # binary: splits on \n only
        if number == 1 and line.startswith(BOM):
            line = line[len(BOM):]
        if line.endswith(b"\n"):
            line = line[:-1]
        if line.endswith(b"\r"):
            line = line[:-1]
        try:
            yield number, line.decode("utf-8")
        except UnicodeDecodeError as error:
            raise LineNotUTF8Error(where, number, error) from None


def read_lines(path):
    """All lines of a UTF-8 file, as a list of str (see `iter_lines`).

    Args:
        path: str or path-like.

    Returns:
        list of str, without line breaks.

    Raises:
        ValueError: naming the file and line when a line is not valid UTF-8.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        return [text for _, text in iter_lines(f, repr(path))]
