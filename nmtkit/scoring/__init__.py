"""Scoring: sacrebleu metrics with signatures and significance tests (metrics, report, run), and
force-decoded model log-probabilities for sentence pairs (model)."""
