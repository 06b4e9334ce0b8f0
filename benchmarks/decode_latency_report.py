"""The Markdown report of `decode_latency.py`, from its measured rows.

Pure formatting: no TensorFlow, no timing, no reading of the machine. The
measuring script passes what it measured and the settings it measured with
(`batch_sizes`, the LiteRT runtimes, the task's lengths and vocabulary), so
this module never imports it and its tests run without a model.

Row shapes (as `decode_latency.py` builds them):

    rows        (family, method, runtime, {batch size: (sent/s, ratio, agree, tokens)})
    cache_rows  [output tokens, ms at batch_sizes[0], ms at batch_sizes[1], ...]
"""

import os


def marginal(cache_rows, column):
    """ms per extra token between successive output lengths."""
    return [
        (b[column] - a[column]) / (b[0] - a[0])
        for a, b in zip(cache_rows, cache_rows[1:])
    ]


def results_markdown(rows, batch_sizes):
    """Sentences per second, ratio to `generate` and agreement, per batch size."""
    lines = [
        "| family | method | runtime | batch 1 sent/s | vs generate | agree "
        "| batch 32 sent/s | vs generate | agree |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    for family, method, runtime, by_batch in rows:
        cells = []
        for batch_size in batch_sizes:
            speed, ratio, agree = by_batch[batch_size][:3]
            cells += [f"{speed:.1f}", f"{ratio:.2f}x", f"{agree:.0%}"]
        lines.append(f"| {family} | {method} | {runtime} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def goals_markdown(rows, cache_rows, batch_sizes, litert):
    """The two goals of the benchmark, checked against the measurements.

    `litert` names the LiteRT runtimes compared with the SavedModel at the
    first batch size: float, then dynamic-range quantized.
    """
    speed = {(f, m, r): b for f, m, r, b in rows}
    lines = [
        "| family | method | LiteRT float / SavedModel, batch 1 "
        "| LiteRT dynamic / SavedModel, batch 1 |",
        "|---|---|--:|--:|",
    ]
    ratios = []
    for family, method, runtime, _ in rows:
        if runtime != "generate":
            continue
        saved = speed[(family, method, "savedmodel")][1][0]
        pair = [speed[(family, method, r)][1][0] / saved for r in litert]
        ratios += pair
        lines.append(f"| {family} | {method} | {pair[0]:.1f}x | {pair[1]:.1f}x |")
    met = "met" if min(ratios) >= 2 else "NOT met"
    lines.append(
        f"\nGoal 1, LiteRT at batch 1 at least 2x the SavedModel on CPU: **{met}** "
        f"(lowest ratio {min(ratios):.1f}x, highest {max(ratios):.1f}x)."
    )
    if cache_rows:
        lines.append("\n" + flatness_sentence(cache_rows, batch_sizes))
    return "\n".join(lines)


def flatness_sentence(cache_rows, batch_sizes):
    """Does the time per token grow from the second-shortest to the longest output?

    The shortest output is left out: the encoder's fixed cost dominates it.
    """
    parts, verdicts = [], []
    (short, *short_times), (long, *long_times) = cache_rows[1], cache_rows[-1]
    for batch_size, a, b in zip(batch_sizes, short_times, long_times):
        ratio = (b / long) / (a / short)
        verdicts.append(ratio <= 1.5)
        parts.append(
            f"batch {batch_size}: {a / short:.2f} ms/token at {short} tokens, "
            f"{b / long:.2f} at {long}, ratio {ratio:.2f}"
        )
    met = "met" if all(verdicts) else "NOT met"
    return (
        "Goal 2, the Transformer's time per generated token flat in the output "
        f"length: **{met}** (criterion: ms/token at {long} tokens at most 1.5x that "
        f"at {short}; decoding without a cache, which reruns the decoder over the "
        "whole prefix at every step, would grow with the length; "
        + "; ".join(parts)
        + ")."
    )


def cache_markdown(cache_rows, batch_sizes):
    """ms per call, per token and per extra token at each output length."""
    lines = [
        "| output tokens | batch 1 ms | ms/token | marginal ms/token "
        "| batch 32 ms | ms/token | marginal ms/token |",
        "|--:|--:|--:|--:|--:|--:|--:|",
    ]
    slopes = [[None] + marginal(cache_rows, c) for c in range(1, len(batch_sizes) + 1)]
    for i, (length, *times) in enumerate(cache_rows):
        cells = []
        for t, column in zip(times, slopes):
            extra = "" if column[i] is None else f"{column[i]:.2f}"
            cells += [f"{t:.1f}", f"{t / length:.2f}", extra]
        lines.append(f"| {length} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report(n, machine, quality_lines, rows, cache_rows, minutes, *,
           load, lengths, vocab, batch_sizes, litert):
    """The whole Markdown page.

    `load` is the load average at the end of the run; `lengths` the
    (shortest, longest) source length and `vocab` the task's vocabulary.
    """
    min_length, max_length = lengths
    sections = [
        "# Decode latency",
        "Written by `benchmarks/decode_latency.py` (rerun it to refresh; a `## Notes` "
        f"section at the end is kept). {n} reverse-task sources of {min_length}-"
        f"{max_length} symbols (vocabulary {vocab}), the same sources for every "
        "runtime: batch 1 feeds each source at its own length, batch 32 pads "
        "consecutive sources to the longest of the batch. Beam search uses 4 beams; "
        "`max_length` is the default (`2 * S + 10`). `agree` is the share of sources "
        "whose output ids equal `generate`'s at the same batch size. Times exclude "
        "export and one warm-up call and include moving arrays in and out; the "
        "runtimes take turns batch by batch so that load from other processes "
        "hits them alike. TensorFlow uses its default thread pools, LiteRT its "
        "default interpreter (XNNPACK, one thread unless `--threads`). "
        f"Whole run: {minutes:.1f} minutes; load average at the end "
        f"{load:.1f}.",
        "## Machine",
        machine,
        "## Models (trained briefly so that outputs have realistic lengths)",
        "\n".join(quality_lines),
        "## Sentences per second",
        results_markdown(rows, batch_sizes),
        "## Goals",
        goals_markdown(rows, cache_rows, batch_sizes, litert),
    ]
    if cache_rows:
        sections += [
            "## Transformer time per generated token",
            "An untrained Transformer of the same size (a 64-position cache; the "
            "task's longest target is 21 tokens) with EOS suppressed, so every "
            "output has exactly the given length; greedy `generate`, the best of "
            "7 calls (2 with `--quick`). The marginal cost is the extra time per "
            "extra token from the row above.",
            cache_markdown(cache_rows, batch_sizes),
        ]
    return "\n\n".join(sections) + "\n"


def write_report(path, text):
    """Write `text` to `path`, keeping a hand-written `## Notes` section.

    Everything from the `## Notes` heading to the end of the file is kept.
    A file without that heading is replaced only when every heading it has
    is one the new report writes too: otherwise the sections after the
    report would be lost, so `ValueError` names the first foreign heading
    and nothing is written. The file is replaced atomically (a temporary
    sibling renamed into place).
    """
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            old = f.read()
        if "\n## Notes" in old:
            text += old[old.index("\n## Notes") :]
        else:
            foreign = [h for h in _headings(old) if h not in _headings(text)]
            if foreign:
                raise ValueError(
                    f"{path} has no '## Notes' heading, and its section {foreign[0]!r} "
                    "is not part of the report: writing would lose it. Put the "
                    "'## Notes' heading back above the hand-written sections."
                )
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _headings(text):
    return [line.strip() for line in text.splitlines() if line.startswith("#")]
