"""Where each service spends its CPU during one rate of `end_to_end.py --profile DIR`: py-spy samples
every process (`py-spy record --format raw`, collapsed stacks), and the busiest functions are
printed, by the share of the process's samples that pass through them (inclusive) and that end in
them (self).

py-spy is a profiling tool, not a dependency of the platform: it is taken from PyPI by uv when
asked for (`uv tool run --from py-spy==0.4.3 py-spy`), and needs the right to ptrace the services
(root, or `kernel.yama.ptrace_scope = 0`).
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path

PY_SPY = ["tool", "run", "--from", "py-spy==0.4.3", "py-spy"]
_UV = Path(__file__).resolve().parents[1] / ".tools" / "bin" / "uv"  # what `make install` put there
_FRAME = re.compile(r"^(?P<function>[^ ]+) \((?P<file>[^:)]+)(?::\d+)?\)$")


def start(pids: dict[str, int], duration: float, into: Path) -> list[subprocess.Popen[bytes]]:
    """Sample each process for `duration` seconds into `into/<name>.txt`."""
    into.mkdir(parents=True, exist_ok=True)
    command = [str(_UV) if _UV.exists() else "uv", *PY_SPY]
    return [
        subprocess.Popen(
            [
                *command,
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(int(duration)),
                "--rate",
                "200",
                "--format",
                "raw",
                "--nonblocking",
                "--output",
                str(into / f"{name}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, pid in pids.items()
    ]


def summary(path: Path, top: int = 12) -> dict[str, list[tuple[str, float]]]:
    """The busiest functions of one collapsed-stacks file, by the share of the samples that pass
    through them ("inclusive", leaving out the frames nearly every sample passes through: the event
    loop, the command) and that end in them ("self")."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = [_name(frame) for frame in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += samples
        own[frames[-1]] += samples
    if not total:
        return {"inclusive": [], "self": []}
    roots = 0.9 * max(inclusive.values())
    below = [(frame, samples) for frame, samples in inclusive.most_common() if samples < roots]
    return {
        "inclusive": [(frame, samples / total) for frame, samples in below[:top]],
        "self": [(frame, samples / total) for frame, samples in own.most_common(top)],
    }


def _name(frame: str) -> str:
    """`function (path/to/module.py:12)` as `module.function`, the package's last two parts."""
    found = _FRAME.match(frame.strip())
    if found is None:
        return frame.strip()
    parts = Path(found["file"]).with_suffix("").parts
    return ".".join([*parts[-2:], found["function"]])
