"""The pipeline on a real (tiny, untrained) checkpoint: order, batching, search options."""

from __future__ import annotations

import random

import pytest
import torch

from nmtkit.search.config import SearchConfig
from nmtkit.search.penalties import length_penalty
from nmtkit.translate.options import TranslateConfig
from nmtkit.translate.translator import Translator
from tests.translate.translate_helpers import translate_file


@pytest.fixture(scope="module")
def mixed_lines(source_lines: list[str]) -> list[str]:
    """Shuffled lengths, empty and blank lines in between."""
    lines = source_lines[:14]
    random.Random(0).shuffle(lines)
    return [*lines[:3], "", *lines[3:9], "   ", "", *lines[9:]]


def test_one_output_line_per_input_line_in_order(tmp_path, tiny_checkpoint, mixed_lines):
    out = translate_file(tmp_path, [tiny_checkpoint], mixed_lines, beam=3)
    assert len(out) == len(mixed_lines)
    assert [o == "" for o in out][3] and out[10] == "" and out[11] == ""
    alone = [
        translate_file(tmp_path, [tiny_checkpoint], [line], beam=3, name=f"s{i}")[0]
        for i, line in enumerate(mixed_lines[:5])
    ]
    assert out[:5] == alone  # each line's translation lands on its own line
    reversed_out = translate_file(tmp_path, [tiny_checkpoint], mixed_lines[::-1], beam=3)
    assert reversed_out == out[::-1]


def test_batch_size_one_and_sixty_four_give_identical_output(
    tmp_path, tiny_checkpoint, mixed_lines
):
    big = translate_file(tmp_path, [tiny_checkpoint], mixed_lines, batch_size=64, name="a")
    one = translate_file(tmp_path, [tiny_checkpoint], mixed_lines, batch_size=1, name="b")
    tokens = translate_file(tmp_path, [tiny_checkpoint], mixed_lines, max_tokens=40, name="c")
    assert big == one == tokens


def test_streaming_chunks_do_not_change_output(tmp_path, tiny_checkpoint, mixed_lines):
    whole = translate_file(tmp_path, [tiny_checkpoint], mixed_lines, name="a")
    chunked = translate_file(tmp_path, [tiny_checkpoint], mixed_lines, chunk_size=4, name="b")
    assert whole == chunked


def test_greedy_equals_beam_one(tmp_path, tiny_checkpoint, mixed_lines):
    greedy = translate_file(tmp_path, [tiny_checkpoint], mixed_lines, greedy=True, name="g")
    beam1 = translate_file(tmp_path, [tiny_checkpoint], mixed_lines, beam=1, name="b")
    assert greedy == beam1


def test_ensemble_of_a_checkpoint_with_itself_equals_it(tmp_path, tiny_checkpoint, mixed_lines):
    single = translate_file(tmp_path, [tiny_checkpoint], mixed_lines, nbest=2, name="s")
    double = translate_file(
        tmp_path, [tiny_checkpoint, tiny_checkpoint], mixed_lines, nbest=2, name="d"
    )
    assert single == double


def test_ensemble_of_two_models_differs_from_each(
    tmp_path, tiny_checkpoint, second_checkpoint, mixed_lines
):
    a = translate_file(tmp_path, [tiny_checkpoint], mixed_lines, nbest=1, name="a")
    ab = translate_file(
        tmp_path, [tiny_checkpoint, second_checkpoint], mixed_lines, nbest=1, name="ab"
    )
    assert len(ab) == len(a) and ab != a


def test_nbest_lines_sorted_with_ids(tmp_path, tiny_checkpoint, mixed_lines):
    out = translate_file(tmp_path, [tiny_checkpoint], mixed_lines, beam=4, nbest=3)
    rows = [line.split("\t") for line in out]
    assert all(len(r) == 3 for r in rows)
    ids = [int(r[0]) for r in rows]
    empty = {3, 10, 11}
    expected = [i for i in range(len(mixed_lines)) for _ in range(1 if i in empty else 3)]
    assert ids == expected
    for i in set(ids) - empty:
        scores = [float(r[1]) for r in rows if int(r[0]) == i]
        assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("lenpen", [0.0, 1.0])
def test_nbest_scores_equal_the_models_log_probs(tiny_checkpoint, source_lines, lenpen):
    search = SearchConfig(beam=3, nbest=3, lenpen=lenpen, max_len_b=4, max_len_a=0.5)
    # fp32: in bf16 a batched LSTM and a single-sentence one round differently (about 1e-3 nats)
    translator = Translator.load([tiny_checkpoint], search, TranslateConfig(precision="fp32"))
    results = translator.translate(source_lines[:4])
    model = translator.model
    for r in results:
        for h in r.hyps:
            src = torch.tensor([[*r.src_ids, 3]])
            tgt_in = torch.tensor([[2, *h.tokens]])
            with torch.inference_mode():
                logits, _ = model(src, torch.tensor([src.size(1)]), tgt_in)
            lp = torch.log_softmax(logits.float(), -1)[0]  # (T, V)
            gold = [*h.tokens, 3]
            total = float(lp[torch.arange(len(gold)), torch.tensor(gold)].sum())
            assert h.log_prob == pytest.approx(total, abs=1e-4)
            assert h.score == pytest.approx(total / length_penalty(len(gold), lenpen), abs=1e-4)


def test_min_and_max_len_flags(tmp_path, tiny_checkpoint, source_lines):
    translator = Translator.load(
        [tiny_checkpoint],
        SearchConfig(beam=2, min_len=2, max_len_a=0.0, max_len_b=3),
        TranslateConfig(),
    )
    for r in translator.translate(source_lines[:6]):
        assert all(2 <= len(h.tokens) <= 3 for h in r.hyps)


def test_sampling_is_seeded(tmp_path, tiny_checkpoint, mixed_lines):
    flags = dict(sampling=True, nbest=2, topk=5, temperature=1.2)
    a = translate_file(tmp_path, [tiny_checkpoint], mixed_lines, seed=1, name="a", **flags)
    b = translate_file(tmp_path, [tiny_checkpoint], mixed_lines, seed=1, name="b", **flags)
    c = translate_file(tmp_path, [tiny_checkpoint], mixed_lines, seed=2, name="c", **flags)
    assert a == b and a != c


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_low_precision_runs_and_keeps_line_count(tmp_path, tiny_checkpoint, mixed_lines, precision):
    out = translate_file(tmp_path, [tiny_checkpoint], mixed_lines, precision=precision, beam=2)
    assert len(out) == len(mixed_lines) and out[3] == ""


def test_low_precision_weights_equal_the_checkpoint_cast_once(tiny_checkpoint):
    from nmtkit.models.build import model_from_checkpoint
    from nmtkit.translate.translator import load_model

    reference = model_from_checkpoint(tiny_checkpoint)[0].to(torch.bfloat16)
    model = load_model(tiny_checkpoint, "cpu", "bf16")
    assert torch.get_default_dtype() == torch.float32  # restored
    ref = dict(reference.named_parameters())
    for name, p in model.named_parameters():
        assert p.dtype == torch.bfloat16
        assert torch.equal(p, ref[name]), name
