#!/usr/bin/env python3
"""Longer fuzzing of the text property tests (tests/properties) with hypothesis's `fuzz`
profile (400 examples per property, unless --examples), printing cases tried and failures.

    .venv/bin/python scripts/fuzz_text.py [--examples 400]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=400, help="examples per property")
    args = parser.parse_args()
    env = {**os.environ, "NMTKIT_HYPOTHESIS_PROFILE": "fuzz",
           "NMTKIT_FUZZ_EXAMPLES": str(args.examples)}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/properties", "-q", "-p", "no:cacheprovider",
         "--hypothesis-show-statistics"],
        cwd=REPO, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    counts = re.findall(r"(\d+) passing, (\d+) failing", done.stdout)
    tried = sum(int(p) + int(f) for p, f in counts)
    failed = re.search(r"(\d+) failed", done.stdout)
    tests = len(re.findall(r"_properties.py::\w+:", done.stdout))
    print(done.stdout[-3000:] if failed else "", end="")
    print(f"{tried} cases tried over {tests} properties, "
          f"{failed.group(1) if failed else 0} failing properties")  # fmt: skip
    sys.exit(done.returncode)


if __name__ == "__main__":
    main()
