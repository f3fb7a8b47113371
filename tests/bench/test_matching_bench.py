"""`make bench` keeps working: the matching benchmark, run at a tiny scale, reports every figure.

This checks that the benchmark runs and says what it should, not how fast anything is: speed is
read from the benchmark's own output, against the baseline it measures in the same run.
"""

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parents[2] / "bench" / "matching_at_scale.py"


def test_the_matching_benchmark_prints_its_table_and_writes_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "matching.json"
    run = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--offers",
            "3000",
            "--needs",
            "500",
            "--samples",
            "10",
            "--naive-samples",
            "2",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert "match a new project (5 needs), p99" in run.stdout and "targets met:" in run.stdout
    figures = json.loads(out.read_text())
    assert figures["offers"] == 3000 and figures["open_needs"] == 500
    for key in ("project_match_ms", "offer_match_ms"):
        assert set(figures[key]) == {"p50", "p99", "naive_p50", "naive_p99", "speedup_p99"}
        assert figures[key]["naive_p99"] > 0 and figures[key]["p99"] > 0
    assert figures["index_build_s"] > 0 and figures["resident_memory_mb"] > 0
