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


def test_a_profile_names_where_the_samples_go_leaving_out_the_frames_every_sample_passes_through(
    tmp_path: Path,
) -> None:
    spec = importlib.util.spec_from_file_location("bench_sampled", BENCH / "sampled.py")
    assert spec is not None and spec.loader is not None
    sampled = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sampled)
    stacks = tmp_path / "members.txt"
    stacks.write_text(
        "main (/x/passerelle/cli.py:3);handle (/x/members/api.py:9);execute (/x/asyncpg/connection.py:1) 6\n"
        "main (/x/passerelle/cli.py:3);handle (/x/members/api.py:9) 1\n"
        "main (/x/passerelle/cli.py:3);relay (/x/messaging/relay.py:5) 3\n"
    )
    found = sampled.summary(stacks)
    assert found["inclusive"] == [
        ("members.api.handle", 0.7),
        ("asyncpg.connection.execute", 0.6),
        (
            "messaging.relay.relay",
            0.3,
        ),
    ]
    assert found["self"][0] == ("asyncpg.connection.execute", 0.6)
