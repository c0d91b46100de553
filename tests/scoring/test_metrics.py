"""`nmtkit score` equals sacrebleu's Python API: numbers to every printed decimal, signatures."""

from __future__ import annotations

import pytest
from sacrebleu.metrics import BLEU, CHRF, TER
from sacrebleu.significance import PairedTest

from tests.scoring.scoring_data import DATASETS, write_lines

TOKENIZERS = ["13a", "intl", "zh", "char", "none"]


def expected_scores(hyps, refs, *, tokenize="13a", lowercase=False, word_order=0, n_bootstrap=1):
    """(name, score object, signature) from sacrebleu's API, in bleu, chrf, ter order."""
    metrics = [
        BLEU(tokenize=tokenize, lowercase=lowercase),
        CHRF(word_order=word_order, lowercase=lowercase),
        TER(),
    ]
    out = []
    for metric in metrics:
        score = metric.corpus_score(hyps, refs, n_bootstrap=n_bootstrap)
        out.append((score.name, score, metric.get_signature().format()))
    return out


def decimals(x: float, width: int) -> float:
    return float(f"{x:.{width}f}")


@pytest.mark.parametrize("lowercase", [False, True])
@pytest.mark.parametrize("tokenize", TOKENIZERS)
@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_corpus_scores_equal_sacrebleu_api(dataset_files, score_json, dataset, tokenize, lowercase):
    hyp, ref_paths, hyps, refs = dataset_files(dataset)
    refs_args = [a for p in ref_paths for a in ("--ref", p)]
    flags = ["--tokenize", tokenize, "--width", "4"] + (["--lowercase"] if lowercase else [])
    payload = score_json(*refs_args, hyp, *flags)
    got = payload["systems"][0]["scores"]
    want = expected_scores(hyps, refs, tokenize=tokenize, lowercase=lowercase)
    assert [g["name"] for g in got] == [name for name, _, _ in want]
    for g, (_, score, signature) in zip(got, want, strict=True):
        assert g["score"] == decimals(score.score, 4)
        assert g["signature"] == signature
        assert g.get("verbose_score", "") == score._verbose


@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_chrf_plus_plus_and_single_metric(dataset_files, score_json, dataset):
    hyp, ref_paths, hyps, refs = dataset_files(dataset)
    refs_args = [a for p in ref_paths for a in ("--ref", p)]
    payload = score_json(*refs_args, hyp, "-m", "chrf", "--chrf-word-order", "2", "-w", "3")
    (got,) = payload["systems"][0]["scores"]
    metric = CHRF(word_order=2)
    want = metric.corpus_score(hyps, refs)
    assert got["name"] == "chrF2++"
    assert got["score"] == decimals(want.score, 3)
    assert got["signature"] == metric.get_signature().format()
    assert "nw:2" in got["signature"] and "nrefs:" in got["signature"]


def test_table_prints_scores_at_width_and_signatures(dataset_files, score):
    hyp, ref_paths, hyps, refs = dataset_files("multiref_empty")
    result = score("-r", ref_paths[0], "-r", ref_paths[1], hyp, "-w", "2")
    assert result.exit_code == 0, result.output
    for name, s, signature in expected_scores(hyps, refs):
        assert f"{s.score:.2f}" in result.stdout
        assert f"  {name:<5}  {signature}\n" in result.stdout  # one unwrapped line each
    assert "nrefs:2" in result.stdout


def test_stdin_hypotheses_equal_file_hypotheses(dataset_files, score_json):
    hyp, ref_paths, _hyps, _ = dataset_files("unicode")
    from_file = score_json("--ref", ref_paths[0], hyp)
    from_stdin = score_json("--ref", ref_paths[0], input=hyp.read_bytes())
    assert [s["score"] for s in from_file["systems"][0]["scores"]] == [
        s["score"] for s in from_stdin["systems"][0]["scores"]
    ]
    assert from_stdin["systems"][0]["name"] == "<stdin>"


def test_crlf_and_bom_read_like_sacrebleu(tmp_path, dataset_files, score_json):
    _hyp, ref_paths, hyps, refs = dataset_files("simple")
    crlf = tmp_path / "crlf.hyp"
    crlf.write_bytes(b"\xef\xbb\xbf" + "".join(h + "  \r\n" for h in hyps).encode())
    got = score_json("--ref", ref_paths[0], crlf, "-w", "4")["systems"][0]["scores"]
    want = expected_scores(hyps, refs)
    assert [g["score"] for g in got] == [decimals(s.score, 4) for _, s, _ in want]


def test_confidence_intervals_equal_sacrebleu_bootstrap(dataset_files, score_json):
    hyp, ref_paths, hyps, refs = dataset_files("simple")
    payload = score_json(
        "--ref", ref_paths[0], hyp, "--confidence", "--confidence-n", "50", "-w", "3"
    )
    got = payload["systems"][0]["scores"]
    for g, (_, s, signature) in zip(got, expected_scores(hyps, refs, n_bootstrap=50), strict=True):
        assert g["score"] == decimals(s.score, 3)
        assert g["confidence_mean"] == decimals(s._mean, 3)
        assert g["confidence_ci"] == decimals(s._ci, 3)
        assert g["signature"] == signature and "bs:50|seed:12345" in signature


def test_sentence_scores_equal_sacrebleu_sentence_level(dataset_files, score):
    hyp, ref_paths, hyps, refs = dataset_files("multiref_empty")
    result = score("-r", ref_paths[0], "-r", ref_paths[1], hyp, "--sentence", "-w", "3")
    assert result.exit_code == 0, result.output
    bleu, chrf, ter = BLEU(effective_order=True), CHRF(), TER()
    want = [
        "\t".join(
            f"{m.sentence_score(h, [r[i] for r in refs]).score:.3f}" for m in (bleu, chrf, ter)
        )
        for i, h in enumerate(hyps)
    ]
    assert result.stdout.splitlines() == want


def _systems(tmp_path):
    """A poor baseline, a clearly better system, and an exact copy of the baseline."""
    base_hyps, (refs,) = DATASETS["simple"][0] * 10, [DATASETS["simple"][1][0] * 10]
    poor = ["the a of"] * len(refs)
    poor[::3] = base_hyps[::3]  # a few good sentences so scores are not degenerate
    baseline = write_lines(tmp_path / "baseline.txt", poor)
    better = write_lines(tmp_path / "better.txt", base_hyps)
    copy = write_lines(tmp_path / "copy.txt", poor)
    ref = write_lines(tmp_path / "ref.txt", refs)
    return ref, baseline, better, copy, poor, base_hyps, refs


@pytest.mark.parametrize("test", ["bs", "ar"])
def test_paired_test_marks_better_system_not_identical_one(tmp_path, score_json, test):
    ref, baseline, better, copy, poor, good, refs = _systems(tmp_path)
    payload = score_json(
        "--ref", ref, "--hyp", baseline, "--hyp", better, "--hyp", copy,
        f"--paired-{test}", "--paired-n", "200", "-m", "bleu,chrf", "-w", "4",
    )  # fmt: skip
    systems = payload["systems"]
    assert [s["name"] for s in systems] == [str(baseline), str(better), str(copy)]
    assert systems[0]["baseline"] and "p_value" not in systems[0]["scores"][0]
    assert all(s["significant"] for s in systems[1]["scores"])
    assert not any(s["significant"] for s in systems[2]["scores"])
    assert payload["paired_test"] == {"type": test, "n": 200, "seed": "12345"}

    metrics = {"bleu": BLEU(references=[refs]), "chrf": CHRF(references=[refs])}
    named = [("b", poor), ("g", good), ("c", poor)]
    sigs, table = PairedTest(named, metrics, None, test_type=test, n_samples=200)()
    for col, name in enumerate(["BLEU", "chrF2"]):
        for row in (1, 2):
            got = systems[row]["scores"][col]
            assert got["p_value"] == pytest.approx(table[name][row].p_value, abs=0)
            assert got["score"] == decimals(table[name][row].score, 4)
        assert systems[0]["scores"][col]["signature"] == sigs[name].format()


def test_two_positional_systems_default_to_paired_bootstrap(tmp_path, score):
    ref, baseline, better, *_ = _systems(tmp_path)
    result = score("--ref", ref, baseline, better, "-m", "bleu", "--paired-n", "100")
    assert result.exit_code == 0, result.output
    assert "Paired bootstrap resampling (100 resamples)" in result.stdout
    assert "(baseline)" in result.stdout and " *" in result.stdout
    assert "bs:100|seed:12345" in result.stdout


def test_sentence_json_uses_sacrebleu_score_names(dataset_files, score_json):
    hyp, ref_paths, hyps, refs = dataset_files("unicode")
    rows = score_json(
        "-r", ref_paths[0], hyp, "--sentence", "-m", "ter,chrf", "--chrf-word-order", "2", "-w", "2"
    )
    ter, chrf = TER(), CHRF(word_order=2)
    assert rows == [
        {
            "TER": decimals(ter.sentence_score(h, [refs[0][i]]).score, 2),
            "chrF2++": decimals(chrf.sentence_score(h, [refs[0][i]]).score, 2),
        }
        for i, h in enumerate(hyps)
    ]
    assert list(rows[0]) == ["TER", "chrF2++"]  # the order asked for
