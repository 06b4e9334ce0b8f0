"""The base of the decoding strategies, and `get` to resolve one."""

import keras

from keras_seq.arguments import format_set
from keras_seq.decoding._value import ConfigValue


class Strategy(ConfigValue):
    """A decoding strategy as a value: its settings, checked once, and a search.

    A strategy holds validated Python settings (no tensors) and runs its
    search loop over a step callable: `search(step_fn, initial_state,
    batch_size, max_length)`. It never sees a model. `Seq2Seq.generate`,
    both exporters and the CLI take one (or a name that `get` resolves), so
    each default lives in the strategy's constructor only.

    Subclasses set `name` and define `search`, `get_config` (the
    constructor's arguments) and, when they decode several hypotheses per
    source, `beams` (the caller tiles what `step_fn` closes over, such as
    the encoder output, `beams` times) and `num_return`.
    """

    name = None
    beams = 1  # rows decoded per source
    num_return = 1  # hypotheses returned per source

    def search(self, step_fn, initial_state, batch_size, max_length, controls=None,
               source_mask=None, target_prefix=None):
        """Decode; returns the dict of `keras_seq.decoding` (`ids`, `lengths`, `scores`).

        Args:
            step_fn: callable `step_fn(ids_t, state) -> (logits, new_state)`
                over `batch_size * beams` rows.
            initial_state: nest of tensors with leading dimension B.
            batch_size: int or scalar int tensor. B.
            max_length: int or scalar int tensor. Most steps, EOS included.
            controls: a `keras_seq.decoding.Controls` or None.
            source_mask: (B, S) or None, the source's non-PAD positions.
            target_prefix: int (B, P) or None, PAD-padded forced tokens.
        """
        raise NotImplementedError



def _by_name():
    # Imported here: the strategies import this module for their base.
    from keras_seq.decoding.strategies.beam import Beam
    from keras_seq.decoding.strategies.greedy import Greedy
    from keras_seq.decoding.strategies.sample import Sample

    return {cls.name: cls for cls in (Greedy, Beam, Sample)}


def get(identifier):
    """Resolve a decoding strategy.

    Args:
        identifier: a `Strategy` (returned as is), a name (`"greedy"`,
            `"beam"` or `"sample"`: the strategy with its defaults), or a
            dict from `keras.saving.serialize_keras_object(strategy)`.

    Returns:
        A `keras_seq.decoding.Strategy`.

    Raises:
        ValueError: naming `strategy` and the accepted values.

    Example:
    >>> keras_seq.decoding.get("beam")
    Beam(size=4, length_penalty=0.0, num_return=1)
    """
    if isinstance(identifier, Strategy):
        return identifier
    classes = _by_name()
    if isinstance(identifier, str) and identifier in classes:
        return classes[identifier]()
    if isinstance(identifier, dict):
        try:
            strategy = keras.saving.deserialize_keras_object(identifier)
        except (TypeError, ValueError):  # not a known class, or bad settings
            strategy = None
        if isinstance(strategy, Strategy):
            return strategy
    raise ValueError(
        "Invalid value for argument `strategy`. Expected one of "
        f"{format_set(classes)} or a keras_seq.decoding strategy (Greedy(), "
        f"Beam(...), Sample(...)). Received: strategy={identifier!r:.80}"
    )
