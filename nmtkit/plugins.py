"""Third-party components: `--user-dir PATH` modules and the `nmtkit.plugins` entry-point group.

Plugins must be imported before the CLI builds its flags from the registries, so `main()` pre-scans
argv for `--user-dir` (as fairseq does) once, before typer parses anything.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path

from nmtkit.config import ConfigBase, option
from nmtkit.errors import UsageError

ENTRY_POINT_GROUP = "nmtkit.plugins"


def user_dirs_from_argv(argv: list[str]) -> list[str]:
    """Every value of --user-dir in argv (both `--user-dir X` and `--user-dir=X`)."""
    found: list[str] = []
    for i, arg in enumerate(argv):
        if arg == "--user-dir" and i + 1 < len(argv):
            found.append(argv[i + 1])
        elif arg.startswith("--user-dir="):
            found.append(arg.split("=", 1)[1])
    return found


def import_user_path(path_str: str) -> None:
    """Import a .py file or a package directory so its @register decorators run."""
    path = Path(path_str).expanduser().resolve()
    if not path.exists():
        raise UsageError("--user-dir not found", file=path_str, fix="give a .py file or package")
    target = path / "__init__.py" if path.is_dir() else path
    name = f"nmtkit_user_{path.stem}"
    if name in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(
        name, target, submodule_search_locations=[str(path)] if path.is_dir() else None
    )
    if spec is None or spec.loader is None or not target.exists():
        raise UsageError(
            "cannot import --user-dir", file=path_str, fix="give a .py file or package"
        )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except (ValueError, TypeError) as exc:  # registry refusals
        del sys.modules[name]
        raise UsageError(f"plugin failed to register: {exc}", file=path_str) from None


def load_entry_points() -> None:
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        ep.load()


def load_plugins(argv: list[str]) -> None:
    """Import entry-point plugins and every --user-dir named in argv (idempotent)."""
    load_user_dirs(user_dirs_from_argv(argv))
    load_entry_points()


@dataclasses.dataclass(frozen=True, kw_only=True)
class PluginConfig(ConfigBase):
    """The plugin option of every subcommand that builds or loads a model."""

    user_dir: list[str] = option(
        [],
        help="Import this .py file or package first (repeatable), so the components it "
        "registers can be trained or loaded. It runs that file's code.",
    )


def load_user_dirs(paths: list[str]) -> None:
    """Import each --user-dir (idempotent: `main()` has usually imported them already)."""
    if paths:
        import nmtkit.models  # noqa: F401  registries must exist before plugins register

        for path in paths:
            import_user_path(path)
