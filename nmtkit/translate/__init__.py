"""`nmtkit translate`: raw text in, detokenized translations out (pipeline), plus attention
outputs (alignment, plot). Modules import torch lazily so the CLI starts fast."""
