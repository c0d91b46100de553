"""Plugins run in a subprocess: registering into the global registries must not leak into the
parametrised component tests of this session."""

import subprocess
import sys
from pathlib import Path

import pytest

from nmtkit.errors import UsageError
from nmtkit.plugins import import_user_path, user_dirs_from_argv

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "examples" / "plugins" / "cosine.py"


def test_user_dir_prescan_finds_both_spellings():
    argv = ["train", "d", "--user-dir", "a.py", "--user-dir=b", "--lr", "1"]
    assert user_dirs_from_argv(argv) == ["a.py", "b"]


def test_user_dir_registers_a_scorer_usable_by_name():
    code = (
        "from nmtkit.plugins import load_plugins;"
        f"load_plugins(['--user-dir', {str(PLUGIN)!r}]);"
        "from nmtkit.models import ATTENTION;"
        "e = ATTENTION.entry('cosine');"
        "print(e.name, e.config_cls().temperature)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["cosine", "0.1"]


def test_missing_user_dir_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="--user-dir not found"):
        import_user_path(str(tmp_path / "nope.py"))
