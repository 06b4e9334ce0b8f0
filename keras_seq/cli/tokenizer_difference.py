"""Whether two runs' tokenizers map text to the same ids, and if not, where not."""

from keras_seq._differences import describe_difference
from keras_seq.export.tflite_sidecars import tokenizer_spec


def tokenizer_difference(first, other):
    """The first difference between two tokenizers, as 'what: first vs other'.

    Compares their kind, their vocabularies token by token, then their
    options (the Keras object name aside: it changes no token). None when
    they tokenize alike. Used wherever runs must share vocabularies
    (`keras-seq average`, `--ensemble`).
    """
    spec_a, spec_b = tokenizer_spec(first), tokenizer_spec(other)
    if spec_a["registered_name"] != spec_b["registered_name"]:
        return f"kind: {spec_a['registered_name']} vs {spec_b['registered_name']}"
    a, b = list(first.vocabulary), list(other.vocabulary)
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"vocabulary at id {i}: {x!r} vs {y!r}"
    if len(a) != len(b):
        return f"vocabulary size: {len(a)} vs {len(b)} tokens"
    difference = describe_difference(
        {k: v for k, v in spec_a["config"].items() if k != "name"},
        {k: v for k, v in spec_b["config"].items() if k != "name"})
    return None if difference is None else f"option {difference}"
