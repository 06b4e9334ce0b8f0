"""Input checks shared by the string metrics (exact match, WER, PER/CER, BLEU)."""

TOKENIZE_MODES = ("symbols", "chars")


def check_tokenize(tokenize, name="tokenize"):
    """Raise a `ValueError` unless `tokenize` is `"symbols"` or `"chars"`."""
    if tokenize not in TOKENIZE_MODES:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected one of "
            f"{set(TOKENIZE_MODES)}. Received: {name}={tokenize!r}"
        )


def split_tokens(text, tokenize):
    """Split `text` into symbols (on whitespace) or into characters."""
    return text.split() if tokenize == "symbols" else list(text)


def check_strings(values, name):
    """Return `values` as a list of str, or raise naming argument `name`."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a list of strings. "
            f"Received: {name} of type {type(values).__name__}"
        )
    values = list(values)
    for i, value in enumerate(values):
        if not isinstance(value, str):
            raise ValueError(
                f"Invalid value for argument `{name}`. Expected a list of "
                f"strings. Received: {name}[{i}]={value!r}"
            )
    return values


def check_references(references, name="references"):
    """Return `references` as a list of non-empty lists of str.

    A plain string item means one reference for that item.
    """
    if isinstance(references, (str, bytes)) or not hasattr(references, "__len__"):
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a list with, per "
            "item, a string or a non-empty list of strings. Received: "
            f"{name} of type {type(references).__name__}"
        )
    result = []
    for i, refs in enumerate(references):
        if isinstance(refs, str):
            refs = [refs]
        elif isinstance(refs, (list, tuple)):
            refs = list(refs)
        else:
            raise ValueError(
                f"Invalid value for argument `{name}`. Expected a string or a "
                f"list of strings per item. Received: {name}[{i}]={refs!r}"
            )
        if not refs:
            raise ValueError(
                f"Invalid value for argument `{name}`. Every item needs at "
                f"least one reference. Received: {name}[{i}]=[]"
            )
        for ref in refs:
            if not isinstance(ref, str):
                raise ValueError(
                    f"Invalid value for argument `{name}`. References must be "
                    f"strings. Received: {name}[{i}] containing {ref!r}"
                )
        result.append(refs)
    return result


def check_corpus(predictions, references):
    """Validate a corpus; return `(predictions, references)` as lists.

    Raises a `ValueError` when the lengths differ or the corpus is empty:
    a score over no items is undefined, and 0.0 would read as a result.
    """
    predictions = check_strings(predictions, "predictions")
    references = check_references(references)
    if len(predictions) != len(references):
        raise ValueError(
            "Arguments `predictions` and `references` must have the same "
            f"length. Received: len(predictions)={len(predictions)}, "
            f"len(references)={len(references)}"
        )
    if not predictions:
        raise ValueError(
            "Invalid value for argument `predictions`. Expected at least one "
            "item; a score over an empty corpus is undefined. Received: "
            "predictions=[]"
        )
    return predictions, references
