"""Helpers for pipeline tests: run a translation in-process on files and read the result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nmtkit.search.config import SearchConfig
from nmtkit.translate.options import TranslateConfig
from nmtkit.translate.pipeline import run


def translate_file(
    tmp_path: Path,
    checkpoints: list[Path],
    lines: list[str] | bytes,
    *,
    logs: list[str] | None = None,
    name: str = "out",
    **flags: Any,
) -> list[str]:
    """Write `lines` to a file, translate it with the given flags, return the output lines."""
    src = tmp_path / f"{name}.src"
    data = lines if isinstance(lines, bytes) else ("\n".join(lines) + "\n").encode("utf-8")
    src.write_bytes(data)
    out = tmp_path / f"{name}.hyp"
    search_fields = {f.name for f in SearchConfig.fields()}
    search = SearchConfig.from_dict({k: v for k, v in flags.items() if k in search_fields})
    options = TranslateConfig.from_dict({k: v for k, v in flags.items() if k not in search_fields})
    sink = logs if logs is not None else []
    run(
        checkpoints=[str(c) for c in checkpoints],
        search=search,
        options=options,
        input=str(src),
        output=str(out),
        log=sink.append,
    )
    return out.read_text(encoding="utf-8").split("\n")[:-1]
