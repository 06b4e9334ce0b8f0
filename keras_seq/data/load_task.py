"""Build a task by name, as the command line does."""

import inspect

from keras_seq.arguments import format_set
from keras_seq.data.addition import addition
from keras_seq.data.cmudict import cmudict
from keras_seq.data.copy import copy
from keras_seq.data.dates import dates
from keras_seq.data.from_files import from_files
from keras_seq.data.from_tsv import from_tsv
from keras_seq.data.reverse import reverse
from keras_seq.data.sort import sort

_BUILDERS = {
    "cmudict": cmudict,
    "reverse": reverse,
    "copy": copy,
    "sort": sort,
    "addition": addition,
    "dates": dates,
    "files": from_files,
    "tsv": from_tsv,
}


def load_task(name, **options):
    """Build the task called `name` with `options`.

    Names: `"cmudict"`, `"reverse"`, `"copy"`, `"sort"`, `"addition"`,
    `"dates"` (the functions of the same name in `keras_seq.data`),
    `"files"` (`keras_seq.data.from_files`) and `"tsv"`
    (`keras_seq.data.from_tsv`).

    Args:
        name: str. The task's name.
        **options: the arguments of that task's function (e.g.
            `max_words=3000` for `"cmudict"`, `source_path=...` and
            `target_path=...` for `"files"`).

    Returns:
        A `keras_seq.data.Task`.

    Raises:
        ValueError: for an unknown name, an option the task doesn't take or
            a required option left out.

    Example:

    >>> task = keras_seq.data.load_task("addition", num_examples=100)
    >>> task.name
    'addition'
    """
    builder = _BUILDERS.get(name) if isinstance(name, str) else None
    if builder is None:
        raise ValueError(
            "Invalid value for argument `task`. Expected one of "
            f"{format_set(_BUILDERS)}. Received: task={name!r}"
        )
    parameters = inspect.signature(builder).parameters
    unknown = sorted(set(options) - set(parameters))
    if unknown:
        raise ValueError(
            f"Invalid option for task {name!r}: {', '.join(map(repr, unknown))}. "
            f"Expected some of {format_set(parameters)}."
        )
    missing = [
        p for p, parameter in parameters.items()
        if parameter.default is inspect.Parameter.empty and p not in options
    ]
    if missing:
        raise ValueError(
            f"Task {name!r} needs the option(s) "
            f"{', '.join(map(repr, missing))}."
        )
    return builder(**options)
