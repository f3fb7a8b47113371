"""`make bench` keeps working: the consumer and end-to-end benchmarks, run tiny, report every figure.

What is checked is that each runs against real servers and says what it should (both sides of each
ratio, no flow lost), not how fast anything is.
"""

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parents[2] / "bench"


def run(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args], capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def test_the_consumer_benchmark_measures_both_consumers_on_the_same_events(tmp_path: Path) -> None:
    out = tmp_path / "consumer.json"
    printed = run("consumer.py", "--events", "300", "--rounds", "1", "--out", str(out))
    assert "raw nats-py (validate, ack)" in printed and "ratio" in printed
    figures = json.loads(out.read_text())
    assert figures["events"] == 300
    assert figures["raw_nats_py_per_s"] > 0 and figures["our_stack_per_s"] > 0
    assert figures["ratio"] == figures["our_stack_per_s"] / figures["raw_nats_py_per_s"]
    assert "ratio, tracing on" in printed and figures["our_stack_traced_per_s"] > 0
    assert figures["traced_ratio"] == figures["our_stack_traced_per_s"] / figures["raw_nats_py_per_s"]


def test_the_end_to_end_benchmark_times_every_flow_into_the_inbox(tmp_path: Path) -> None:
    out = tmp_path / "end_to_end.json"
    printed = run(
        "end_to_end.py",
        *("--stored", "500", "1000", "--rates", "5", "--growth-rates", "5", "--duration", "1"),
        *("--territories", "2", "--out", str(out)),
    )
    assert "3 hops p99" in printed and "targets met:" in printed
    assert "database round trips per flow" in printed and "floor CPU ms per flow" in printed
    figures = json.loads(out.read_text())
    assert [run["stored_offers"] for run in figures["runs"]] == [500, 1000]
    for step in (step for run in figures["runs"] for step in run["steps"]):
        assert step["sent"] == 5 and step["count"] == 5 and step["lost"] == 0, step
        assert 0 < step["p50_ms"] <= step["p99_ms"] <= step["max_ms"]
        assert step["baseline"]["count"] == 5 and step["baseline"]["p99_ms"] > 0
        assert step["cpu_ms_per_flow"]["matching"] > 0
        # Counted by PostgreSQL: each service's statements and transactions during the rate.
        for service in ("members", "matching", "notifications"):
            assert step["round_trips_per_flow"][service] > 0 and step["transactions_per_flow"][service] > 0
        assert step["top_statements_per_flow"] and set(step["baseline"]["cpu_ms_per_flow"]) >= {
            "hop 1",
            "hop 3",
        }
