#!/usr/bin/env bash
# Regenerate the command output pasted in README.md and docs/*.md (the blocks between
# <!-- docs.sh: NAME --> markers): a small seeded run of preprocess → train → translate → score,
# the layout of nmtkit/, the plugin example. `./scripts/docs.sh --check` only reports stale blocks.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/nmtkit ] || ./scripts/setup.sh
exec .venv/bin/python scripts/docs.py "$@"
