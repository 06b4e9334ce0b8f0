"""The `Task` returned by every data builder."""

import dataclasses

import tensorflow as tf

from keras_seq.text.tokenizer import Tokenizer

SPLITS = ("train", "validation", "test")


@dataclasses.dataclass(repr=False)
class Task:
    """A seq2seq task: batched datasets, tokenizers and raw text per split.

    Each dataset yields `({"encoder_ids": [B, S], "decoder_ids": [B, T]},
    target_ids [B, T])`, int32, padded with PAD (0): `encoder_ids` are the
    source tokens (no BOS/EOS), `decoder_ids` are BOS + target tokens and
    `target_ids` are target tokens + EOS.

    `train` is shuffled with the task's seed and bucketed by source length;
    it holds one example per (source, reference) pair, so a source with
    several references (a word with several pronunciations) is seen once
    with each. `validation` and `test` are neither shuffled nor bucketed and
    hold one example per source, in the order of `sources[split]`, its
    target being the first reference; score predictions against all of
    `references[split]`.

    Args:
        name: str. The task's name (e.g. `"cmudict"`).
        train: `tf.data.Dataset`. The training batches.
        validation: `tf.data.Dataset`. The validation batches.
        test: `tf.data.Dataset`. The test batches.
        source_tokenizer: `keras_seq.text.Tokenizer`. Makes `encoder_ids`.
        target_tokenizer: `keras_seq.text.Tokenizer`. Makes `decoder_ids`
            and `target_ids`, and turns predictions back into text.
        sources: dict of split name to list of str. The source texts, each
            once, in dataset order for `"validation"` and `"test"`.
        references: dict of split name to list of lists of str. All
            reference target texts of each source, aligned with `sources`.
        config: dict. The arguments the task was built with, and counts
            worth recording; JSON-serialisable.

    Example:

    >>> task = keras_seq.data.reverse(num_examples=100, max_length=5)
    >>> inputs, target_ids = next(iter(task.validation))
    >>> sorted(inputs)
    ['decoder_ids', 'encoder_ids']
    >>> task.target_tokenizer.detokenize(target_ids).numpy().tolist() == [
    ...     ref[0].encode() for ref in task.references["validation"]]
    True
    """

    name: str
    train: tf.data.Dataset
    validation: tf.data.Dataset
    test: tf.data.Dataset
    source_tokenizer: Tokenizer
    target_tokenizer: Tokenizer
    sources: dict
    references: dict
    config: dict = dataclasses.field(default_factory=dict)

    def encode_sources(self, strings):
        """Tokenize source texts as the datasets do.

        Args:
            strings: list of str. Source texts.

        Returns:
            int32 NumPy array [B, S]: source ids padded with PAD (0), no
            BOS or EOS.
        """
        return self.source_tokenizer.tokenize(list(strings)).numpy()

    def __repr__(self):
        sizes = ", ".join(
            f"{split}={len(self.sources.get(split, ()))}" for split in SPLITS
        )
        return (
            f"Task(name={self.name!r}, sources: {sizes}, source vocab_size="
            f"{self.source_tokenizer.vocab_size}, target vocab_size="
            f"{self.target_tokenizer.vocab_size})"
        )
