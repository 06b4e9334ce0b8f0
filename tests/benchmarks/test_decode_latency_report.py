"""benchmarks/decode_latency_report.py turns hand-made rows into the right Markdown.

The benchmark itself trains and exports four model families (minutes); its
report is pure formatting, so these tests feed it rows written by hand and
check the cells, ratios and verdicts that docs/benchmarks.md quotes.
"""

import importlib.util
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCHMARKS = os.path.join(ROOT, "benchmarks")
_spec = importlib.util.spec_from_file_location(
    "decode_latency_report", os.path.join(BENCHMARKS, "decode_latency_report.py")
)
dlr = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(dlr)

BATCH_SIZES = (1, 32)  # as decode_latency.py measures
LITERT = ("litert", "litert-dyn")
# Output tokens, then best ms at batch 1 and at batch 32.
CACHE_ROWS = [[8, 20.0, 60.0], [16, 36.0, 100.0], [32, 68.0, 260.0], [64, 132.0, 500.0]]


def family_rows(family, method, speeds, agree=1.0):
    """Rows of one family and method; `speeds` maps runtime -> (batch 1, batch 32)."""
    reference = speeds["generate"]
    return [
        (family, method, runtime, {
            b: (speed[i], speed[i] / reference[i], 1.0 if runtime == "generate" else agree)
            for i, b in enumerate(BATCH_SIZES)
        })
        for runtime, speed in speeds.items()
    ]


def fast_rows(litert=350.0, litert_dyn=250.0):
    """rnn greedy: the SavedModel at 100 sent/s at batch 1, LiteRT as given."""
    return family_rows("rnn", "greedy", {
        "generate": (50.0, 1000.0),
        "savedmodel": (100.0, 1500.0),
        "litert": (litert, 800.0),
        "litert-dyn": (litert_dyn, 2000.0),
    }, agree=0.97)


def make_report(cache_rows=CACHE_ROWS):
    return dlr.report(
        32, "- CPU: test", ["| family | train s |", "|---|--:|", "| rnn | 16 |"],
        fast_rows(), cache_rows, 2.26,
        load=1.04, lengths=(5, 20), vocab=30, batch_sizes=BATCH_SIZES, litert=LITERT,
    )


def test_results_markdown_formats_speed_ratio_and_agreement_per_batch():
    lines = dlr.results_markdown(fast_rows(litert=1234.56), BATCH_SIZES).splitlines()
    assert lines[0].startswith("| family | method | runtime | batch 1 sent/s |")
    assert lines[1] == "|---|---|---|--:|--:|--:|--:|--:|--:|"
    assert len(lines) == 2 + 4
    assert lines[2] == "| rnn | greedy | generate | 50.0 | 1.00x | 100% | 1000.0 | 1.00x | 100% |"
    assert lines[4] == "| rnn | greedy | litert | 1234.6 | 24.69x | 97% | 800.0 | 0.80x | 97% |"
    assert lines[5] == "| rnn | greedy | litert-dyn | 250.0 | 5.00x | 97% | 2000.0 | 2.00x | 97% |"


def test_goals_markdown_divides_litert_by_the_savedmodel_at_batch_1():
    rows = fast_rows() + family_rows("transformer", "beam", {
        "generate": (5.0, 50.0),
        "savedmodel": (10.0, 55.0),
        "litert": (51.0, 12.0),
        "litert-dyn": (21.0, 15.0),
    })
    text = dlr.goals_markdown(rows, [], BATCH_SIZES, LITERT)
    lines = text.splitlines()
    assert lines[2] == "| rnn | greedy | 3.5x | 2.5x |"
    assert lines[3] == "| transformer | beam | 5.1x | 2.1x |"
    assert lines[-1] == (
        "Goal 1, LiteRT at batch 1 at least 2x the SavedModel on CPU: **met** "
        "(lowest ratio 2.1x, highest 5.1x)."
    )
    assert "Goal 2" not in text  # no cache table, no second goal


def test_goal_1_is_not_met_when_one_litert_ratio_is_below_2():
    text = dlr.goals_markdown(fast_rows(litert_dyn=150.0), [], BATCH_SIZES, LITERT)
    assert "| rnn | greedy | 3.5x | 1.5x |" in text
    assert "**NOT met** (lowest ratio 1.5x, highest 3.5x)." in text


def test_goals_markdown_appends_goal_2_when_there_are_cache_rows():
    text = dlr.goals_markdown(fast_rows(), CACHE_ROWS, BATCH_SIZES, LITERT)
    goal_1, goal_2 = text.split("\n\n")[1:]
    assert goal_1.startswith("Goal 1,")
    assert goal_2 == dlr.flatness_sentence(CACHE_ROWS, BATCH_SIZES)


def test_flatness_sentence_compares_the_second_shortest_with_the_longest_output():
    text = dlr.flatness_sentence(CACHE_ROWS, BATCH_SIZES)
    assert text.startswith(
        "Goal 2, the Transformer's time per generated token flat in the output "
        "length: **met** (criterion: ms/token at 64 tokens at most 1.5x that at 16;"
    )
    # 36 / 16 = 2.25 and 132 / 64 = 2.06 ms/token; 100 / 16 = 6.25 and 500 / 64 = 7.81.
    assert text.endswith(
        "; batch 1: 2.25 ms/token at 16 tokens, 2.06 at 64, ratio 0.92"
        "; batch 32: 6.25 ms/token at 16 tokens, 7.81 at 64, ratio 1.25)."
    )


def test_flatness_criterion_is_at_most_1_5x_in_every_batch():
    exactly = [[8, 1.0, 1.0], [16, 32.0, 32.0], [64, 192.0, 192.0]]  # 2 -> 3 ms/token
    assert "**met**" in dlr.flatness_sentence(exactly, BATCH_SIZES)
    growing = [[8, 1.0, 1.0], [16, 32.0, 32.0], [64, 192.0, 200.0]]  # batch 32: 1.56x
    text = dlr.flatness_sentence(growing, BATCH_SIZES)
    assert "**NOT met**" in text
    assert "batch 1: 2.00 ms/token at 16 tokens, 3.00 at 64, ratio 1.50" in text
    assert "batch 32: 2.00 ms/token at 16 tokens, 3.12 at 64, ratio 1.56" in text


def test_marginal_is_extra_ms_per_extra_token():
    assert dlr.marginal(CACHE_ROWS, 1) == [2.0, 2.0, 2.0]
    assert dlr.marginal(CACHE_ROWS, 2) == [5.0, 10.0, 7.5]


def test_cache_markdown_has_per_token_and_marginal_columns():
    lines = dlr.cache_markdown(CACHE_ROWS, BATCH_SIZES).splitlines()
    assert lines[1] == "|--:|--:|--:|--:|--:|--:|--:|"
    assert lines[2:] == [
        "| 8 | 20.0 | 2.50 |  | 60.0 | 7.50 |  |",  # no row above: no marginal
        "| 16 | 36.0 | 2.25 | 2.00 | 100.0 | 6.25 | 5.00 |",
        "| 32 | 68.0 | 2.12 | 2.00 | 260.0 | 8.12 | 10.00 |",
        "| 64 | 132.0 | 2.06 | 2.00 | 500.0 | 7.81 | 7.50 |",
    ]


def test_report_puts_the_sections_in_order_with_the_run_settings():
    text = make_report()
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings == [
        "# Decode latency",
        "## Machine",
        "## Models (trained briefly so that outputs have realistic lengths)",
        "## Sentences per second",
        "## Goals",
        "## Transformer time per generated token",
    ]
    assert "). 32 reverse-task sources of 5-20 symbols (vocabulary 30), " in text
    assert "Whole run: 2.3 minutes; load average at the end 1.0.\n\n## Machine\n\n" in text
    assert "\n\n- CPU: test\n\n" in text
    assert "\n| rnn | 16 |\n\n## Sentences per second\n\n" in text
    assert text.endswith("| 64 | 132.0 | 2.06 | 2.00 | 500.0 | 7.81 | 7.50 |\n")


def test_report_without_cache_rows_ends_at_goal_1():
    text = make_report(cache_rows=[])
    assert "## Transformer time per generated token" not in text
    assert "Goal 2" not in text
    assert text.endswith("(lowest ratio 2.5x, highest 3.5x).\n")


def test_write_report_keeps_the_notes_and_everything_after_them(tmp_path):
    path = tmp_path / "benchmarks.md"
    path.write_text(
        "# Decode latency\n\nold tables, with `## Notes` mentioned inline\n"
        "\n## Notes\n\nHand-written.\n\n## G2P quality\n\nOther benchmark.\n"
    )
    dlr.write_report(str(path), "# Decode latency\n\nnew tables\n")
    assert path.read_text() == (
        "# Decode latency\n\nnew tables\n"
        "\n## Notes\n\nHand-written.\n\n## G2P quality\n\nOther benchmark.\n"
    )


def test_write_report_replaces_a_file_without_notes_and_creates_a_new_one(tmp_path):
    old = tmp_path / "old.md"
    old.write_text("# Decode latency\n\n## Machine\n\nold tables\n")
    new_report = "# Decode latency\n\n## Machine\n\nnew tables\n"
    dlr.write_report(str(old), new_report)
    assert old.read_text() == new_report
    new = tmp_path / "new.md"
    dlr.write_report(str(new), "new report\n")
    assert new.read_text() == "new report\n"
    assert sorted(os.listdir(tmp_path)) == ["new.md", "old.md"]  # no temporary left


def test_write_report_refuses_to_drop_sections_it_did_not_write(tmp_path):
    """A doc whose `## Notes` heading was lost keeps its other sections: the
    write is refused, naming the section, and the file is unchanged."""
    doc = tmp_path / "benchmarks.md"
    text = ("# Decode latency\n\nWritten by ... a `## Notes\n\nhand-written\n\n"
            "## G2P quality\n\nWER 36.7\n")
    doc.write_text(text)
    with pytest.raises(ValueError, match="no '## Notes' heading.*'## G2P quality'"):
        dlr.write_report(str(doc), "# Decode latency\n\n## Machine\n\nnew\n")
    assert doc.read_text() == text
    assert os.listdir(tmp_path) == ["benchmarks.md"]


def test_report_module_needs_neither_tensorflow_nor_the_measuring_script():
    code = (
        "import sys; import decode_latency_report; "
        "print(sorted(m for m in ('tensorflow', 'keras', 'decode_latency') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=BENCHMARKS, capture_output=True, text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
