"""Hypothesis/reference sets shared by the scoring tests (imported by name: no package)."""

from __future__ import annotations

from pathlib import Path

# name → (hypotheses, [reference set, ...]); covers multiple references, empty lines, unicode,
# Chinese (for the zh tokenizer), case differences (for lowercase) and tokenized punctuation.
DATASETS: dict[str, tuple[list[str], list[list[str]]]] = {
    "simple": (
        [
            "The cat sat on the mat.",
            "A man is riding a bicycle down the street.",
            "Two dogs play in the snow.",
            "She reads a book .",
        ],
        [
            [
                "The cat sat on the mat.",
                "A man rides a bike down the road.",
                "Two dogs are playing in the snow.",
                "She is reading a book.",
            ]
        ],
    ),
    "multiref_empty": (
        ["a man in a RED shirt", "", "Children playing football.", "the end"],
        [
            ["A man in a red shirt.", "Nothing here.", "Kids play soccer.", "The end."],
            ["a man wearing a red shirt", "", "Children are playing football.", "the END"],
        ],
    ),
    "unicode": (
        [
            "Ein Mädchen läuft über die Straße.",
            "我们今天去公园散步。",
            "Ça va très bien, merci !",
            "Emoji 😀 and naïve café",
        ],
        [
            [
                "Ein Mädchen rennt über die Straße.",
                "我们今天在公园里散步。",
                "Ça va bien, merci!",
                "emoji 😀 and naive café",
            ]
        ],
    ),
}


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path
