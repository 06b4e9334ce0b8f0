"""benchmarks/decode_latency.py runs end to end at its smoke size.

Its report's formatting is tested alone (test_decode_latency_report.py);
these run the measuring script itself (`--quick`: 32 sources, one epoch)
and check what it measured: every runtime of every method at both batch
sizes, and the float exports agreeing with `generate` on every source.
"""

import json

import pytest

RUNTIMES = ("generate", "savedmodel", "litert", "litert-dyn")


def table_rows(text, heading):
    """The body rows of the first Markdown table under `## heading`, as cells."""
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]


@pytest.mark.slow
def test_report_has_every_runtime_and_the_cache_table(run_benchmark, tmp_path):
    doc = tmp_path / "latency.md"
    doc.write_text("# Decode latency\n\nold\n\n## Notes\n\nhand-written\n")
    out = run_benchmark("decode_latency.py", "--quick", "--families", "rnn,transformer",
                        "--write", str(doc))
    text = doc.read_text()
    assert text.endswith("## Notes\n\nhand-written\n")  # the notes are kept
    assert text.split("\n## Notes")[0].strip() in out  # the printed report

    models = table_rows(text, "Models (trained briefly so that outputs have realistic lengths)")
    assert [row[0] for row in models] == ["rnn", "transformer"]
    assert all(0 < float(row[2]) < 10 for row in models)  # a finite final loss

    speeds = table_rows(text, "Sentences per second")
    expected = [(f, m, r) for f in ("rnn", "transformer") for m in ("greedy", "beam")
                for r in RUNTIMES]
    assert [tuple(row[:3]) for row in speeds] == expected
    for family, method, runtime, *cells in speeds:
        for speed, ratio, agree in (cells[0:3], cells[3:6]):
            assert float(speed) > 0
            if runtime == "generate":
                assert (ratio, agree) == ("1.00x", "100%")
            if runtime in ("savedmodel", "litert"):  # float exports: the same ids
                assert agree == "100%", (family, method, runtime)

    cache = table_rows(text, "Transformer time per generated token")
    assert [int(row[0]) for row in cache] == [8, 16, 32, 64]
    assert "Goal 1, LiteRT at batch 1" in text


@pytest.mark.slow
def test_json_rows_are_what_compare_revisions_reads(run_benchmark, tmp_path):
    path = tmp_path / "rows.json"
    run_benchmark("decode_latency.py", "--quick", "--families", "bahdanau",
                  "--json", str(path))
    data = json.loads(path.read_text())
    assert data["keras_seq"].endswith("keras_seq")
    cells = {(c["method"], c["runtime"], c["batch"]): c for c in data["cells"]}
    assert sorted(cells) == sorted((m, r, b) for m in ("greedy", "beam")
                                   for r in RUNTIMES for b in (1, 32))
    assert {c["family"] for c in data["cells"]} == {"bahdanau"}
    for (method, runtime, batch), cell in cells.items():
        assert cell["sentences_per_s"] > 0
        reference = cells[(method, "generate", batch)]
        if runtime in ("generate", "savedmodel", "litert"):
            assert cell["agree"] == 1.0, (method, runtime, batch)
            assert cell["tokens"] == reference["tokens"] > 0


def test_unknown_family_is_refused_with_the_accepted_values(run_benchmark):
    err = run_benchmark("decode_latency.py", "--families", "lstm", returncode=2)
    assert "--families" in err and "rnn, bahdanau, luong, transformer" in err
