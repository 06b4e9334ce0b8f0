"""Decode a list of strings with a Keras model and its tokenizers."""

import numpy as np


def decode_texts(model, source_tokenizer, target_tokenizer, texts, strategy="greedy",
                 max_length=None, batch_size=256, max_source_length=None, controls=None,
                 replace_unknown_target=False):
    """Return (outputs: list[str], scores: np.ndarray) for `texts`.

    `strategy` is a `keras_seq.decoding` strategy or its name; `controls` a
    dict of `keras_seq.decoding.Controls` arguments. Sources longer than
    `max_source_length` tokens (None: no limit) are truncated to it. With
    `replace_unknown_target`, each UNK of an output reads as the source
    token it attends to most.
    """
    from keras_seq.text import replace_unknown_target as replace

    controls = dict(controls or {})
    if replace_unknown_target:
        controls["return_attention"] = True
    outputs, scores = [], []
    for start in range(0, len(texts), batch_size):
        chunk = texts[start : start + batch_size]
        ids = source_tokenizer.tokenize(chunk, max_length=max_source_length)
        result = model.generate(ids, strategy=strategy, max_length=max_length, **controls)
        if replace_unknown_target:
            decoded = replace(target_tokenizer, result["ids"], result["lengths"],
                              result["attention"], source_tokenizer.pieces(chunk))
        else:
            decoded = target_tokenizer.detokenize(result["ids"], result["lengths"])
        outputs += [t.decode("utf-8") for t in decoded.numpy()]
        scores.append(result["scores"].numpy())
    return outputs, (np.concatenate(scores) if scores else np.zeros(0, "float32"))
