"""`make bench` keeps working: the fan-out benchmark, run at a tiny scale, reports every figure.

It checks that the benchmark runs and says what it should, not how fast anything is."""

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parents[2] / "bench" / "fan_out.py"


def test_the_fan_out_benchmark_tells_every_member_in_chunks_and_prints_its_floor(tmp_path: Path) -> None:
    out = tmp_path / "fan_out.json"
    run = subprocess.run(
        [sys.executable, str(BENCH), "--members", "250", "--chunk", "100", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert "x floor" in run.stdout and "10,000 members told within 5 s" in run.stdout
    [size] = json.loads(out.read_text())["sizes"]
    assert size["members"] == size["inbox_stored"] == 250 and size["chunks"] == 3
    assert size["floor_s"] > 0 and size["ratio_to_floor"] > 0
