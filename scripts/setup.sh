#!/usr/bin/env bash
# Create .venv and install nmtkit into it. CPU machines get the CPU build of torch: a bare `torch`
# requirement would pull a multi-GB CUDA build. An existing torch (in .venv) is kept as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  .venv/bin/python -m pip install -q "torch==2.13.0" \
    || .venv/bin/python -m pip install -q torch --index-url https://download.pytorch.org/whl/cpu
fi
.venv/bin/python -m pip install -q -e ".[dev,serve]"
# The attention explorer's browser test drives Debian's chromium through chromium-driver
# (Selenium). Installed only when missing, and only where we are root with apt-get; elsewhere
# that one test skips and says why.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        chromium chromium-driver >/dev/null; } \
      || echo "setup: could not install chromium; the browser test will skip" >&2
  else
    echo "setup: chromium/chromium-driver missing (needs root and apt-get); browser test skips" >&2
  fi
fi
# Editable installs get no bytecode, and where PYTHONDONTWRITEBYTECODE is set none is ever
# written: every `nmtkit` start would compile the package from source (~50 ms of start-up).
.venv/bin/python -m compileall -q nmtkit
