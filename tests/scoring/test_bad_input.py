"""Bad input: one UsageError naming the file (and line), no score printed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nmtkit.errors import UsageError
from nmtkit.scoring.textio import decode_lines
from tests.scoring.scoring_data import write_lines

NMTKIT = Path(sys.executable).parent / "nmtkit"


@pytest.fixture
def files(tmp_path):
    ref = write_lines(tmp_path / "ref.txt", ["a b c", "d e f", "g h i"])
    hyp = write_lines(tmp_path / "hyp.txt", ["a b c", "d e", "g h i"])
    return tmp_path, ref, hyp


def usage_error(result) -> UsageError:
    """The command failed with a UsageError and printed nothing on stdout."""
    assert result.exit_code != 0
    assert isinstance(result.exception, UsageError), result.exception
    assert result.stdout == ""
    return result.exception


def test_line_count_mismatch_names_both_counts_and_files(files, score):
    tmp, ref, _ = files
    short = write_lines(tmp / "short.txt", ["a b c", "d e"])
    err = usage_error(score("--ref", ref, short))
    assert err.file == str(short)
    assert "2 lines" in err.message and "3 lines" in err.message and str(ref) in err.message


def test_reference_count_mismatch_names_both_files(files, score):
    tmp, ref, hyp = files
    ref2 = write_lines(tmp / "ref2.txt", ["x"])
    err = usage_error(score("--ref", ref, "--ref", ref2, hyp))
    assert err.file == str(ref2) and str(ref) in err.message and "1 line " in err.message


def test_empty_hypothesis_file(files, score):
    tmp, ref, _ = files
    empty = tmp / "empty.txt"
    empty.write_bytes(b"")
    err = usage_error(score("--ref", ref, empty))
    assert err.file == str(empty) and "empty" in err.message
    err = usage_error(score("--ref", ref, input=b""))
    assert err.file == "<stdin>"


def test_missing_files(files, score):
    tmp, ref, hyp = files
    assert usage_error(score("--ref", tmp / "nope.ref", hyp)).file == str(tmp / "nope.ref")
    assert usage_error(score("--ref", ref, tmp / "nope.hyp")).file == str(tmp / "nope.hyp")
    assert "no reference" in usage_error(score(hyp)).message
    assert "directory" in usage_error(score("--ref", ref, tmp)).message


def test_unknown_metric_lists_valid_ones(files, score):
    _, ref, hyp = files
    err = usage_error(score("--ref", ref, hyp, "--metrics", "bleu,meteor"))
    assert "'meteor'" in err.message and err.fix == "choose from bleu, chrf, ter"


def test_unknown_tokenizer_lists_valid_ones(files, score):
    _, ref, hyp = files
    err = usage_error(score("--ref", ref, hyp, "--tokenize", "moses"))
    assert "'moses'" in err.message
    assert all(name in err.fix for name in ("13a", "intl", "zh", "char", "none", "flores101"))


def test_uninstalled_tokenizer_is_a_usage_error(files, score):
    pytest.importorskip("sacrebleu")
    try:
        import MeCab  # noqa: F401

        pytest.skip("mecab is installed here")
    except ImportError:
        pass
    _, ref, hyp = files
    err = usage_error(score("--ref", ref, hyp, "--tokenize", "ja-mecab"))
    assert "not available" in err.message


def test_invalid_utf8_names_file_and_line(files, score):
    tmp, ref, _ = files
    bad = tmp / "bad.txt"
    bad.write_bytes(b"a b c\nd \xff e\ng h i\n")
    err = usage_error(score("--ref", ref, bad))
    assert (err.file, err.line) == (str(bad), 2)
    err = usage_error(score("--ref", bad, ref))
    assert (err.file, err.line) == (str(bad), 2)


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--sentence", "--confidence"], "--sentence"),
        (["--paired-bs"], "two systems"),
        (["--paired-bs", "--paired-ar"], "exclude"),
        (["--width", "-1"], "--width"),
    ],
)
def test_conflicting_options(files, score, args, needle):
    _, ref, hyp = files
    assert needle in usage_error(score("--ref", ref, hyp, *args)).message


def test_model_mode_needs_all_three_flags_and_no_refs(files, score):
    _, ref, hyp = files
    assert "--tgt" in usage_error(score("-c", "x.safetensors", "--src", hyp)).message
    assert "cannot be combined" in usage_error(score("-c", "x", "--ref", ref)).message
    assert "cannot be combined" in usage_error(score("-c", "x", "--sentence")).message


def test_decode_lines_splits_on_lf_only_strips_bom_crlf_and_trailing_space():
    data = "\ufeffa\u2028b \r\nc\rd\n\n  e\t".encode()
    assert decode_lines(data, "x") == ["a\u2028b", "c\rd", "", "  e"]
    assert decode_lines(b"", "x") == []
    assert decode_lines(b"\n", "x") == [""]


def test_console_script_prints_one_error_line_and_exits_nonzero(files):
    tmp, ref, _ = files
    short = write_lines(tmp / "short.txt", ["a"])
    proc = subprocess.run(
        [str(NMTKIT), "score", "--ref", str(ref), str(short)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("nmtkit: error: ")
    assert "1 line" in proc.stderr and "3 lines" in proc.stderr
