"""Decoding: one loop (driver) and small strategies (beam, greedy, sampling) over the model's
encode / init_state / decode_step protocol. Nothing here is imported at package import: the CLI
stays fast to start."""
