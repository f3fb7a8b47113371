"""Every relative link of the repository's Markdown pages leads somewhere: a file, and its heading."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^\s*(```|~~~)")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def markdown_pages() -> list[Path]:
    return sorted(
        path
        for path in ROOT.rglob("*.md")
        if not any(part.startswith(".") or part == "node_modules" for part in path.relative_to(ROOT).parts)
    )


def outside_fences(page: Path) -> list[str]:
    lines, fenced = [], False
    for line in page.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def prose(page: Path) -> list[str]:
    """The page's lines outside code, fenced or inline: links there are examples."""
    return [re.sub(r"`[^`]*`", "", line) for line in outside_fences(page)]


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {anchor(line.lstrip("#")) for line in outside_fences(page) if line.startswith("#")}


def broken_links(page: Path, root: Path = ROOT) -> list[str]:
    broken = []
    for line in prose(page):
        for target in LINK.findall(line):
            if EXTERNAL.match(target):
                continue
            path_part, _, fragment = target.partition("#")
            destination = (page.parent / path_part).resolve() if path_part else page
            if not destination.exists() or root not in (destination, *destination.parents):
                broken.append(f"{target} (no such file in the repository)")
            elif fragment and destination.suffix == ".md" and fragment not in anchors(destination):
                broken.append(f"{target} (no heading #{fragment} in {destination.relative_to(root)})")
    return broken


def test_every_relative_link_of_every_markdown_page_resolves_to_a_file_and_heading() -> None:
    broken = {
        str(page.relative_to(ROOT)): links for page in markdown_pages() if (links := broken_links(page))
    }
    assert not broken, f"broken links: {broken}"


def test_a_missing_file_and_a_missing_heading_are_reported_and_a_good_anchor_is_not(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# The title\n\nSee [nothing](missing.md), [here](#the-title), [there](#nowhere),\n"
        "[out](https://example.org) and `[code](ignored.md)`.\n",
        encoding="utf-8",
    )
    assert broken_links(page, tmp_path) == [
        "missing.md (no such file in the repository)",
        "#nowhere (no heading #nowhere in page.md)",
    ]
