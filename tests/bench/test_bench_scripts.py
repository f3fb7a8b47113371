"""The benchmarks run as scripts (`python bench/<name>.py`), so their folder comes first on the path:
a script named like a package would hide that package from every benchmark that imports it."""

import importlib.util
from pathlib import Path

BENCH = Path(__file__).parents[2] / "bench"


def test_no_benchmark_script_is_named_like_a_package_the_benchmarks_can_import() -> None:
    scripts = sorted(path.stem for path in BENCH.glob("*.py"))
    assert scripts, BENCH
    hidden = [name for name in scripts if importlib.util.find_spec(name) is not None]
    assert hidden == []


def test_no_benchmark_edits_the_import_path_to_find_its_packages() -> None:
    edits = [path.name for path in BENCH.glob("*.py") if "sys.path" in path.read_text()]
    assert edits == []
