"""Seq2Seq: embeddings + encoder + decoder + generator, wired by models/build.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from nmtkit.models.base import Decoder, DecoderState, Encoder, EncoderOutput
from nmtkit.models.embeddings import Embeddings, Generator

if TYPE_CHECKING:
    from nmtkit.models.build import ModelConfig


class Seq2Seq(nn.Module):
    """An attention-based encoder-decoder; the search and training code see only this API."""

    def __init__(
        self,
        config: ModelConfig,
        *,
        embeddings: Embeddings,
        encoder: Encoder,
        decoder: Decoder,
        generator: Generator,
    ) -> None:
        super().__init__()
        self.config = config
        self.embeddings = embeddings
        self.encoder = encoder
        self.decoder = decoder
        self.generator = generator

    def encode(self, src: Tensor, src_lengths: Tensor) -> EncoderOutput:
        """src (B, S) with EOS last and PAD_ID padding, src_lengths (B,) → EncoderOutput."""
        return self.encoder(self.embeddings.embed_src(src), src_lengths)

    def init_state(self, enc: EncoderOutput) -> DecoderState:
        return self.decoder.init_state(enc)

    def forward(
        self, src: Tensor, src_lengths: Tensor, tgt_in: Tensor, teacher_forcing: float = 1.0
    ) -> tuple[Tensor, Tensor]:
        """src (B, S), src_lengths (B,), tgt_in (B, T) → logits (B, T, V), weights (B, T, S).

        teacher_forcing = 1.0 runs the decoder's (possibly fused) forward and the generator
        once over all T. Below 1.0 (scheduled sampling) a per-step loop feeds, per sentence and
        step with probability 1 - teacher_forcing, the model's own greedy prediction instead of
        the reference token: slower, as each step needs the generator.
        """
        if teacher_forcing >= 1.0:
            features, weights = self.features(src, src_lengths, tgt_in)
            return self.generator(features), weights  # (B, T, V), (B, T, S)
        state = self.init_state(self.encode(src, src_lengths))
        return self.sampled_forward(tgt_in, state, teacher_forcing)

    def features(self, src: Tensor, src_lengths: Tensor, tgt_in: Tensor) -> tuple[Tensor, Tensor]:
        """Teacher-forced decoder features (B, T, Ho) and weights (B, T, S), before the
        generator: the training loss projects them itself, a chunk of rows at a time."""
        state = self.init_state(self.encode(src, src_lengths))
        return self.decoder(self.embeddings.embed_tgt(tgt_in), state)

    def attention_heads(self, src: Tensor, src_lengths: Tensor, tgt_in: Tensor) -> Tensor | None:
        """Teacher-forced cross-attention per layer and head (B, L, H, T, S), or None for
        decoders with a single attention (their weights are what search returns)."""
        state = self.init_state(self.encode(src, src_lengths))
        return self.decoder.attention_heads(self.embeddings.embed_tgt(tgt_in), state)

    def sampled_forward(
        self, tgt_in: Tensor, state: DecoderState, teacher_forcing: float
    ) -> tuple[Tensor, Tensor]:
        """Scheduled sampling (Bengio et al. 2015): step loop mixing reference and predictions."""
        steps = tgt_in.size(1)
        use_ref = torch.rand(tgt_in.shape, device=tgt_in.device) < teacher_forcing  # (B, T)
        prev = tgt_in[:, 0]  # (B,) always BOS
        logits, weights = [], []
        for t in range(steps):
            feat, state, w = self.decoder.step(self.embeddings.embed_tgt(prev), state)
            step_logits = self.generator(feat)  # (B, V)
            logits.append(step_logits)
            weights.append(w)
            if t + 1 < steps:
                guess = step_logits.detach().argmax(-1)  # (B,)
                prev = torch.where(use_ref[:, t + 1], tgt_in[:, t + 1], guess)
        return torch.stack(logits, 1), torch.stack(weights, 1)

    def decode_step(
        self, prev_tokens: Tensor, state: DecoderState
    ) -> tuple[Tensor, DecoderState, Tensor]:
        """prev_tokens (N,) → log_probs (N, V) float32, new state, weights (N, S)."""
        feat, state, weights = self.decoder.step(self.embeddings.embed_tgt(prev_tokens), state)
        log_probs = torch.log_softmax(self.generator(feat).float(), dim=-1)  # (N, V)
        return log_probs, state, weights
