"""`--ensemble RUN ...`: several finished runs decoded as one model."""

import os

from keras_seq.cli import options
from keras_seq.cli import run_directory as rd
from keras_seq.cli.errors import CLIError
from keras_seq.cli.tokenizer_difference import tokenizer_difference


def add_ensemble_options(parser):
    parser.add_argument(
        "--ensemble", nargs="+", action="extend", metavar="RUN", default=[],
        help="more finished run directories with the same vocabularies: decode "
             "with the ensemble of all the runs (their log-probabilities averaged); "
             "inline inputs go before --ensemble")
    parser.add_argument(
        "--ensemble-weights", nargs="+", metavar="W", type=options.real(above=0),
        help="one positive weight per run, the first run's first (default: equal)")


def load_runs(run, args):
    """(config, model, source_tokenizer, target_tokenizer) of `run` and the
    runs of `--ensemble`: the model is an `Ensemble` when there are several.

    The first run's config and tokenizers are used; every other run must
    have the same tokenizers (kind, options and vocabulary), checked token
    by token. A source is cut to the shortest `max_length` among the runs.
    """
    runs = [run] + list(args.ensemble)
    weights = args.ensemble_weights
    if weights is not None and len(weights) != len(runs):
        raise CLIError(f"--ensemble-weights takes one weight per run ({len(runs)}: "
                       f"the first run and --ensemble's), got {len(weights)}")
    if len(set(map(os.path.realpath, runs))) != len(runs):
        raise CLIError(f"a run is listed twice among {' '.join(runs)}: give --ensemble "
                       "other runs, or weights with --ensemble-weights")
    loaded = [rd.load_run(path) for path in runs]
    config, model, source_tokenizer, target_tokenizer = loaded[0]
    if len(runs) == 1:
        return loaded[0]
    for path, (_, _, source, target) in zip(runs[1:], loaded[1:]):
        check_same_tokenizer("source", runs[0], source_tokenizer, path, source)
        check_same_tokenizer("target", runs[0], target_tokenizer, path, target)
    from keras_seq.models import Ensemble

    lengths = [c.get("max_length") for c, _, _, _ in loaded if c.get("max_length")]
    config = dict(config, max_length=min(lengths) if lengths else None)
    ensemble = Ensemble([m for _, m, _, _ in loaded], weights=weights)
    return config, ensemble, source_tokenizer, target_tokenizer


def check_same_tokenizer(side, first_run, first, run, other):
    """Refuse `other` unless it tokenizes as `first` does, naming the first difference."""
    difference = tokenizer_difference(first, other)
    if difference is not None:
        raise CLIError(f"{first_run} and {run} have different {side} tokenizers "
                       f"({difference}): an ensemble's runs share their vocabularies")
