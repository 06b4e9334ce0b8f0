"""Sampling as a value."""

import keras

from keras_seq.decoding.sample import check_sample_arguments, sample
from keras_seq.decoding.strategies.strategy import Strategy


@keras.saving.register_keras_serializable(package="keras_seq")
class Sample(Strategy):
    """Draw each token from the model's distribution, filtered.

    Runs `keras_seq.decoding.sample`: logits divided by `temperature`, cut
    to the `top_k` most likely tokens and to the `top_p` nucleus, then one
    draw. Exports: not supported (an exported model decodes greedy or
    beam); `Seq2Seq.generate` only.

    Args:
        temperature: float > 0. Below 1 sharpens, above 1 flattens.
            Defaults to `1.0`.
        top_k: int >= 0. Tokens to sample from; 0 disables the cut.
            Defaults to `0`.
        top_p: float in (0, 1]. Nucleus mass; 1 disables the cut. Defaults
            to `1.0`.
        seed: int or None. The same seed gives the same samples; None gives
            fresh samples on every call. Defaults to `None`.

    Example:
    >>> keras_seq.decoding.Sample(temperature=0.7, top_p=0.9, seed=1)
    Sample(temperature=0.7, top_k=0, top_p=0.9, seed=1)

    References:
        - [Fan et al., 2018](https://arxiv.org/abs/1805.04833) (top-k).
        - [Holtzman et al., 2020](https://arxiv.org/abs/1904.09751)
          (nucleus sampling).
    """

    name = "sample"

    def __init__(self, temperature=1.0, top_k=0, top_p=1.0, seed=None):
        self.temperature, self.top_k, self.top_p, self.seed = check_sample_arguments(
            temperature, top_k, top_p, seed)

    def search(self, step_fn, initial_state, batch_size, max_length, controls=None,
               source_mask=None, target_prefix=None):
        return sample(
            step_fn, initial_state, batch_size, max_length,
            temperature=self.temperature, top_k=self.top_k, top_p=self.top_p,
            seed=self.seed, controls=controls, source_mask=source_mask,
            target_prefix=target_prefix,
        )

    def get_config(self):
        return {"temperature": self.temperature, "top_k": self.top_k,
                "top_p": self.top_p, "seed": self.seed}
