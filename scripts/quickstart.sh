#!/usr/bin/env bash
# Set up, then run the whole pipeline on the bundled Multi30k En-De corpus:
# preprocess → train (a few minutes on CPU) → translate the test set → score it.
# Everything lands in runs/quickstart/. TRAIN_TIME overrides the training budget (default 4m).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
NMT=.venv/bin/nmtkit
DATA=examples/multi30k/data
OUT=runs/quickstart
mkdir -p "$OUT"
$NMT preprocess -s en -t de --train $DATA/train --valid $DATA/val --test $DATA/test_2016_flickr \
  --vocab-size 8000 --out "$OUT/data" --force
$NMT train "$OUT/data" --save-dir "$OUT/model" --max-time "${TRAIN_TIME:-4m}" --force
gzip -dc $DATA/test_2016_flickr.en.gz > "$OUT/test.en"
gzip -dc $DATA/test_2016_flickr.de.gz > "$OUT/test.de"
$NMT translate -c "$OUT/model/checkpoint_best.safetensors" < "$OUT/test.en" > "$OUT/test.hyp.de"
paste "$OUT/test.en" "$OUT/test.hyp.de" | sed -n 1,3p
$NMT score --ref "$OUT/test.de" "$OUT/test.hyp.de"
