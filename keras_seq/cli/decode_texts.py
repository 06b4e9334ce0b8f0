"""Decode a list of strings with a Keras model and its tokenizers."""

import numpy as np


def decode_texts(model, source_tokenizer, target_tokenizer, texts, strategy="greedy",
                 max_length=None, batch_size=256, max_source_length=None):
    """Return (outputs: list[str], scores: np.ndarray) for `texts`.

    `strategy` is a `keras_seq.decoding` strategy or its name. Sources
    longer than `max_source_length` tokens (None: no limit) are truncated
    to it.
    """
    outputs, scores = [], []
    for start in range(0, len(texts), batch_size):
        chunk = texts[start : start + batch_size]
        ids = source_tokenizer.tokenize(chunk, max_length=max_source_length)
        result = model.generate(ids, strategy=strategy, max_length=max_length)
        decoded = target_tokenizer.detokenize(result["ids"], result["lengths"])
        outputs += [t.decode("utf-8") for t in decoded.numpy()]
        scores.append(result["scores"].numpy())
    return outputs, (np.concatenate(scores) if scores else np.zeros(0, "float32"))
