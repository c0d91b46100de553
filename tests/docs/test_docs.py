"""The documentation says what the code does: pasted output is current, links resolve, the README
stays a guide (short, no dated measurements), and nmtkit's own text quotes no measurements."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINKED_PAGES = [
    REPO / "README.md",
    *sorted((REPO / "docs").glob("*.md")),
    REPO / "benchmarks" / "README.md",
    *sorted((REPO / "examples").glob("*/README.md")),
]
FENCE = re.compile(r"^(```|~~~).*?^\1\s*$", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
DATE = re.compile(r"\b20\d\d-\d\d-\d\d\b")


def _docs_script():
    path = REPO / "scripts" / "docs.py"
    spec = importlib.util.spec_from_file_location("nmtkit_docs_script", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _prose(path: Path) -> str:
    """A Markdown file without its fenced code blocks (links and headings in code are not real)."""
    return FENCE.sub("", path.read_text(encoding="utf-8"))


def github_anchor(heading: str) -> str:
    """GitHub's heading id: lower case, markup and punctuation dropped, spaces → hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps its text
    text = text.strip().lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for heading in HEADING.findall(_prose(path)):
        slug = github_anchor(heading)
        n = seen.get(slug, 0)
        out.add(slug if n == 0 else f"{slug}-{n}")
        seen[slug] = n + 1
    return out


def broken_links(page: Path, root: Path = REPO) -> list[str]:
    """Relative links of `page` whose file or heading does not exist (URLs are not fetched)."""
    broken = []
    for target in LINK.findall(_prose(page)):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        dest = (page.parent / file_part).resolve() if file_part else page
        if not dest.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target} (no heading #{anchor} in {dest.relative_to(root)})")
    return broken


def test_github_anchor_matches_github_slugs() -> None:
    assert github_anchor("Training speed (`train_speed.py`)") == "training-speed-train_speedpy"
    assert github_anchor("Models (nmtkit/models)") == "models-nmtkitmodels"
    assert github_anchor("From stdin to stdout (`nmtkit translate`)") == (
        "from-stdin-to-stdout-nmtkit-translate"
    )


@pytest.mark.parametrize("page", LINKED_PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_and_anchors_resolve(page: Path) -> None:
    assert broken_links(page) == [], f"{page.relative_to(REPO)}: broken links"


def test_link_check_catches_a_broken_link_and_anchor(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    (tmp_path / "other.md").write_text("# Real heading\n", encoding="utf-8")
    page.write_text(
        "[a](other.md#real-heading) [b](missing.md) [c](other.md#nope) [d](#here) [e](#gone)\n"
        "```\n[in code](ignored.md)\n```\n## Here\n",
        encoding="utf-8",
    )
    assert broken_links(page.resolve(), tmp_path.resolve()) == [
        "missing.md (no such file)",
        "other.md#nope (no heading #nope in other.md)",
        "#gone (no heading #gone in page.md)",
    ]


def test_readme_is_a_guide_not_a_lab_notebook() -> None:
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 220, f"README.md has {len(lines)} lines; move details to docs/"


def test_no_dated_figures_outside_benchmarks_and_examples() -> None:
    """Dated measurements belong in benchmarks/README.md or examples/*/README.md."""
    places = [REPO / "README.md", *(REPO / "docs").glob("*.md"), *(REPO / "nmtkit").rglob("*.py")]
    dated = [
        f"{path.relative_to(REPO)}:{i}: {line.strip()}"
        for path in places
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if DATE.search(line)
    ]
    assert dated == [], "move dated figures to benchmarks/README.md:\n" + "\n".join(dated)


def test_nmtkit_text_quotes_no_memory_measurements() -> None:
    """Help strings, docstrings and comments say what and why; figures live in benchmarks/."""
    hits = [
        f"{path.relative_to(REPO)}:{i}: {line.strip()}"
        for path in sorted((REPO / "nmtkit").rglob("*.py"))
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\d\s?(MiB|GiB)\b|\bmeasured\b", line)
    ]
    assert hits == [], "move measurements to benchmarks/README.md:\n" + "\n".join(hits)


def test_docs_script_reports_a_stale_block_and_rewrites_it() -> None:
    docs = _docs_script()
    text = "intro\n<!-- docs.sh: layout -->\nold output\n<!-- /docs.sh -->\nend\n"
    updated, stale = docs.render(text, {"layout": "new output\n"}, "page.md")
    assert updated == "intro\n<!-- docs.sh: layout -->\nnew output\n<!-- /docs.sh -->\nend\n"
    assert [(file, block) for file, block, _, _ in stale] == [("page.md", "layout")]
    assert "run ./scripts/docs.sh" in docs.report(stale)
    assert docs.render(updated, {"layout": "new output\n"}, "page.md") == (updated, [])


def test_docs_script_masks_only_wall_clock_figures() -> None:
    docs = _docs_script()
    line = "epoch 1 | step 100 | loss 6.770 | 5439 tgt tok/s | elapsed 0:00:19 | eta 0:03:40"
    assert docs.mask(line) == "epoch 1 | step 100 | loss 6.770 | … tgt tok/s | elapsed … | eta …"
    assert docs.mask("translated 2 lines (16 target pieces) in 0.52 s") == (
        "translated 2 lines (16 target pieces) in … s"
    )


@pytest.mark.slow
def test_pasted_command_output_is_current() -> None:
    """Reruns every generated block (a seeded demo run of the four commands, about 20 s)."""
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "docs.py"), "--check"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
