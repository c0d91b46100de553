"""Regenerate the command output pasted in README.md and docs/*.md, or check that it is current.

A generated block sits between two markers, and only the text between them is rewritten:

    <!-- docs.sh: NAME -->
    ...generated...
    <!-- /docs.sh -->

NAME is a key of BLOCKS below. The `demo` blocks run the four commands of the quick start
(preprocess → train → translate → score) on a small slice of the bundled corpus, seeded, in
fp32 on one thread, so their output is the same on every run; wall-clock figures (seconds,
tokens/s, elapsed, eta) are masked as `…`, the only parts that vary.

    .venv/bin/python scripts/docs.py           # rewrite the blocks (scripts/docs.sh does this)
    .venv/bin/python scripts/docs.py --check   # exit 1 naming each stale block (CI, tests/docs)
"""

from __future__ import annotations

import argparse
import difflib
import gzip
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "examples" / "multi30k" / "data"
FILES = ["README.md", *sorted(str(p.relative_to(REPO)) for p in (REPO / "docs").glob("*.md"))]
MARKER = re.compile(r"(<!-- docs\.sh: ([\w-]+) -->\n)(.*?)(<!-- /docs\.sh -->)", re.DOTALL)

# The demo: small enough to run in seconds (CI checks it), so its translations are poor.
SLICE = {"train": ("train", 1000), "val": ("val", 100), "test": ("test_2016_flickr", 100)}
PREPROCESS = "nmtkit preprocess -s en -t de --train m30k/train --valid m30k/val --test m30k/test --vocab-size 1000 --out data"  # noqa: E501
TRAIN = (
    "nmtkit train data --save-dir model --attention bahdanau --max-epochs 2 --batch-size 32 "
    "--lr 0.01 --warmup-steps 10 --emb-size 64 --encoder-hidden-size 64 --decoder-hidden-size 128 "
    "--precision fp32 --threads 1"
)
TRANSLATE = "nmtkit translate -c model/checkpoint_best.safetensors < m30k/test.en > hyp.de"
HEAD = "head -n 2 hyp.de"
SCORE = "nmtkit score --ref m30k/test.de hyp.de"

#: sacrebleu's advice when a barely trained model's output ends in " ." (validation BLEU).
SACREBLEU_NOISE = re.compile(r"tokenized period|forgot to detokenize|insist your data is detok")
MASKS = [
    (re.compile(r"\d[\d,]*(\.\d+)? (tgt tok/s|sent/s|s\b)"), r"… \2"),
    (re.compile(r"(elapsed|eta) \d+:\d\d:\d\d"), r"\1 …"),
]


def mask(text: str) -> str:
    for pattern, repl in MASKS:
        text = pattern.sub(repl, text)
    return text


def _slice(work: Path) -> None:
    (work / "m30k").mkdir()
    for name, (prefix, lines) in SLICE.items():
        for lang in ("en", "de"):
            with gzip.open(CORPUS / f"{prefix}.{lang}.gz", "rt", encoding="utf-8") as f:
                head = [next(f) for _ in range(lines)]
            (work / "m30k" / f"{name}.{lang}").write_text("".join(head), encoding="utf-8")


def _sh(command: str, work: Path) -> str:
    """Run one shell command as a user would (nmtkit on PATH), return stdout + stderr."""
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "NO_COLOR": "1",
        "TERM": "dumb",
        "PYTHONHASHSEED": "0",
    }
    proc = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        cwd=work, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"docs.py: `{command}` failed ({proc.returncode}):\n{proc.stderr}")
    return proc.stdout + proc.stderr


def _fence(*runs: tuple[str, str], keep: Callable[[list[str]], list[str]] | None = None) -> str:
    """A console block: each command after a `$ ` prompt, then its masked, trimmed output."""
    shown = []
    for command, output in runs:
        lines = [line.rstrip() for line in mask(output).strip("\n").splitlines()]
        shown += ["$ " + _wrap(command), *(keep(lines) if keep else lines)]
    return "```console\n" + "\n".join(shown) + "\n```\n"


def _wrap(command: str, width: int = 96) -> str:
    """Break a long command line at option boundaries with `\\` continuations."""
    words, lines, current = command.split(" "), [], ""
    for word in words:
        if current and len(current) + len(word) + 1 > width and word.startswith("-"):
            lines.append(current + " \\")
            current = "    " + word
        else:
            current = f"{current} {word}" if current else word
    return "\n".join([*lines, current])


def _train_lines(lines: list[str]) -> list[str]:
    """The model line, the first progress line, every validation, the end (the configs are
    long JSON; sacrebleu's warnings about a barely trained model are noise)."""
    steps = [i for i, line in enumerate(lines) if line.startswith("epoch ")]
    drop = set(steps[1:])
    out, skipped = [], False
    for i, line in enumerate(lines):
        if line.startswith(("model config:", "training config:")) or SACREBLEU_NOISE.search(line):
            continue
        if i in drop:
            if not skipped:
                out.append("...")
            skipped = True
            continue
        skipped = False
        out.append(line)
    return out


def demo_blocks() -> dict[str, str]:
    with tempfile.TemporaryDirectory(prefix="nmtkit-docs-") as tmp:
        work = Path(tmp)
        _slice(work)
        run = {c: _sh(c, work) for c in (PREPROCESS, TRAIN, TRANSLATE, HEAD, SCORE)}
    return {
        "preprocess": _fence((PREPROCESS, run[PREPROCESS])),
        "train": _fence((TRAIN, run[TRAIN]), keep=_train_lines),
        "translate": _fence((TRANSLATE, run[TRANSLATE]), (HEAD, run[HEAD])),
        "score": _fence((SCORE, run[SCORE])),
    }


def layout_block() -> str:
    """Every package and module of nmtkit/ with the first line of its docstring."""
    import ast

    rows = []
    for path in sorted((REPO / "nmtkit").rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        first = doc.strip().split("\n")[0]
        if path.name == "__init__.py":
            rel, first = rel.removesuffix("__init__.py"), first or "(package)"
        elif not first:
            continue
        rows.append((rel, first))
    width = max(len(rel) for rel, _ in rows) + 2
    lines = [f"{rel:<{width}}{first}" for rel, first in rows]
    return "```\n" + "\n".join(lines) + "\n```\n"


def plugin_block() -> str:
    """examples/plugins/cosine.py from its first decorator on: the part a plugin author writes."""
    source = (REPO / "examples" / "plugins" / "cosine.py").read_text(encoding="utf-8")
    start = source.index("@dataclasses.dataclass")
    return "```python\n" + source[start:].strip("\n") + "\n```\n"


#: Producers and the blocks each one writes (the demo's four share one run).
PRODUCERS: list[tuple[frozenset[str], Callable[[], dict[str, str]]]] = [
    (frozenset({"preprocess", "train", "translate", "score"}), demo_blocks),
    (frozenset({"plugin"}), lambda: {"plugin": plugin_block()}),
    (frozenset({"layout"}), lambda: {"layout": layout_block()}),
]
KNOWN = frozenset().union(*(names for names, _ in PRODUCERS))


def generate(wanted: set[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for names, produce in PRODUCERS:
        if names & wanted:
            out.update(produce())
    return out


def used_blocks() -> dict[str, list[str]]:
    """Block name → files that contain it."""
    found: dict[str, list[str]] = {}
    for name in FILES:
        for match in MARKER.finditer((REPO / name).read_text(encoding="utf-8")):
            found.setdefault(match.group(2), []).append(name)
    return found


Stale = tuple[str, str, str, str]  # file, block, pasted text, fresh text


def render(text: str, fresh: dict[str, str], file: str) -> tuple[str, list[Stale]]:
    """`text` with every block replaced by its fresh output, and the blocks that changed."""
    stale: list[Stale] = []

    def replace(m: re.Match[str]) -> str:
        new = fresh[m.group(2)]
        if m.group(3) != new:
            stale.append((file, m.group(2), m.group(3), new))
        return m.group(1) + new + m.group(4)

    return MARKER.sub(replace, text), stale


def report(stale: list[Stale]) -> str:
    """A short diff per stale block, then the one line that says what to do."""
    parts = []
    for file, block, old, new in stale:
        diff = difflib.unified_diff(
            old.splitlines(), new.splitlines(), f"{file} [{block}] (pasted)",
            f"{file} [{block}] (what the code prints now)", lineterm="", n=1,
        )  # fmt: skip
        parts.append("\n".join(list(diff)[:30]))
    names = ", ".join(f"{file} [{block}]" for file, block, _, _ in stale)
    parts.append(
        f"pasted command output is out of date in {names}: run ./scripts/docs.sh and commit "
        "the result"
    )
    return "\n".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale blocks")
    args = parser.parse_args()
    used = used_blocks()
    unknown = sorted(set(used) - KNOWN)
    if unknown:
        where = [used[n] for n in unknown]
        print(f"docs.py: unknown block(s) {unknown} in {where}", file=sys.stderr)
        return 1
    fresh = generate(set(used))
    stale: list[Stale] = []
    for name in FILES:
        path = REPO / name
        text = path.read_text(encoding="utf-8")
        updated, changed = render(text, fresh, name)
        stale += changed
        if not args.check and updated != text:
            path.write_text(updated, encoding="utf-8")
    if args.check and stale:
        print(report(stale), file=sys.stderr)
        return 1
    if not args.check:
        print(f"docs.py: {len(fresh)} block(s) regenerated, {len(stale)} changed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
