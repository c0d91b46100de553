"""Property tests over arbitrary text and bytes (hypothesis): translate keeps one output line per
input line and never raises anything but a one-line error; score scores or refuses in one line;
preprocess writes a complete data directory or none; the tokenizer round-trips what it can
represent."""

from __future__ import annotations

import contextlib
import io
import string
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from nmtkit.errors import UsageError

# Lines without "\n" (the only line separator nmtkit reads) but with every other oddity.
LINE = st.text(st.characters(blacklist_characters="\n"), max_size=60)
WORDS = st.text(string.ascii_letters + " .,'-", max_size=40)  # what the fixture model knows


def _expected_lines(data: bytes) -> int:
    return data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)


def _translate(checkpoint: Path, data: bytes, **flags) -> tuple[list[str], list[str]]:
    from tests.translate.translate_helpers import translate_file

    with tempfile.TemporaryDirectory() as tmp:
        logs: list[str] = []
        out = translate_file(Path(tmp), [checkpoint], data, logs=logs, max_len_b=3,
                             max_len_a=0.2, **flags)  # fmt: skip
        return out, logs


@given(st.lists(LINE, max_size=8))
def test_translate_keeps_one_line_per_input_line_for_any_unicode(fixture_checkpoint, lines):
    data = "".join(f"{line}\n" for line in lines).encode("utf-8", errors="surrogatepass")
    try:
        out, _ = _translate(fixture_checkpoint, data, greedy=True)
    except UsageError as exc:  # lone surrogates are invalid UTF-8: allowed only with a warning
        raise AssertionError(f"refused valid input: {exc}") from None
    assert len(out) == _expected_lines(data) == len(lines)
    for line, hyp in zip(lines, out, strict=True):
        if not line.strip():
            assert hyp == ""  # an empty (or blank) line stays empty, in its place


@given(st.binary(max_size=300))
def test_translate_keeps_one_line_per_input_line_for_any_bytes(fixture_checkpoint, data):
    out, logs = _translate(fixture_checkpoint, data, beam=2)
    assert len(out) == _expected_lines(data)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        assert any("invalid UTF-8" in m for m in logs)


@given(st.binary(max_size=200))
def test_translate_strict_refuses_invalid_utf8_in_one_line(fixture_checkpoint, data):
    try:
        out, _ = _translate(fixture_checkpoint, data, greedy=True, strict=True)
    except UsageError as exc:
        assert "invalid UTF-8" in str(exc) and "\n" not in str(exc)
        return
    data.decode("utf-8")  # accepted: then it was valid
    assert len(out) == _expected_lines(data)


def _score(*argv: str) -> tuple[int, str, str]:
    from nmtkit.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(["score", *argv])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue(), err.getvalue()


@given(st.binary(max_size=200), st.binary(max_size=200))
def test_score_scores_or_refuses_in_one_line(hyp: bytes, ref: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        h, r = Path(tmp) / "hyp", Path(tmp) / "ref"
        h.write_bytes(hyp)
        r.write_bytes(ref)
        code, out, err = _score(str(h), "-r", str(r), "-m", "bleu,chrf")
    if code == 0:
        assert "BLEU" in out or "bleu" in out.lower()
    else:
        errors = [line for line in err.splitlines() if line.startswith("nmtkit: error:")]
        assert len(errors) == 1 and "Traceback" not in err, err


@given(st.lists(WORDS, min_size=1, max_size=6))
def test_tokenizer_round_trips_what_it_can_represent(fixture_checkpoint, lines):
    from nmtkit.data.tokenizer import Tokenizer

    tok = Tokenizer.load(fixture_checkpoint.parent)
    ids = tok.encode_src(lines)
    unk = 1
    for line, piece_ids, back in zip(lines, ids, tok.decode_src(ids), strict=True):
        if unk not in piece_ids:
            assert back == tok.normalize_src(line)


@given(st.lists(st.binary(max_size=40), min_size=1, max_size=30))
def test_preprocess_writes_a_whole_data_dir_or_none(tiny_corpus_dir, rows):
    """Arbitrary bytes appended to a real corpus: a complete data dir, or none and an error
    naming the file and the line."""
    from nmtkit.data.preprocess import PreprocessConfig, run

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        for lang in ("en", "de"):
            base = (tiny_corpus_dir / f"train.{lang}").read_bytes().splitlines(keepends=True)
            junk = b"".join(r.replace(b"\n", b" ") + b"\n" for r in rows)
            (tmp_path / f"train.{lang}").write_bytes(b"".join(base[:150]) + junk)
        out = tmp_path / "data"
        cfg = PreprocessConfig(source_lang="en", target_lang="de", train=str(tmp_path / "train"),
                               out=str(out), vocab_size=120)  # fmt: skip
        try:
            run(cfg)
        except UsageError as exc:
            message = str(exc)
            assert "\n" not in message and "train." in message, message
            assert not out.exists()
            assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
            return
        assert (out / "manifest.json").is_file() and (out / "train.safetensors").exists()
