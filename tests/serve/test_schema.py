"""Request validation (400/413/422, each naming its field or limit) and the OpenAPI schema."""

from __future__ import annotations

import dataclasses
import json

import pytest

from nmtkit.serve.config import ServeConfig
from nmtkit.serve.errors import ApiError
from nmtkit.serve.schema import TranslateRequest, clean_text, parse_request, request_schema

LIMITS = ServeConfig(max_body_bytes=1000, max_lines=3, max_line_chars=10, max_beam=8)


def refused(body: bytes | object) -> ApiError:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    with pytest.raises(ApiError) as info:
        parse_request(raw, LIMITS)
    return info.value


@pytest.mark.parametrize("raw", [b"", b"{", b'{"text": ["a"]', b"[1,]", b"nul", b"{'a': 1}",
                                 b"[" * 100_000])
def test_malformed_json_is_400(raw: bytes) -> None:
    err = refused(raw)
    assert err.status == 400 and err.message.startswith("malformed JSON")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "(body)"),
        ("text", "(body)"),
        ({}, "text"),
        ({"text": "a sentence"}, "text"),
        ({"text": ["a", 3]}, "text[1]"),
        ({"text": ["a", None]}, "text[1]"),
        ({"text": ["a"], "beam": "5"}, "beam"),
        ({"text": ["a"], "beam": 2.0}, "beam"),
        ({"text": ["a"], "beam": True}, "beam"),
        ({"text": ["a"], "nbest": False}, "nbest"),
        ({"text": ["a"], "alignment": 1}, "alignment"),
        ({"text": ["a"], "attention": "yes"}, "attention"),
        ({"text": ["a"], "Beam": 5}, "Beam"),
        ({"text": ["a"], "beam": 0}, "beam"),
        ({"text": ["a"], "nbest": -1}, "nbest"),
        ({"text": ["a"], "beam": 9}, "beam"),
    ],
)
def test_wrong_fields_are_422_naming_the_field(body: object, field: str) -> None:
    err = refused(body)
    assert (err.status, err.field) == (422, field)
    assert field.split("[")[0].strip("()") in err.message


@pytest.mark.parametrize(
    ("body", "limit"),
    [({"text": ["a"] * 4}, "max_lines"), ({"text": ["a", "b" * 11]}, "max_line_chars")],
)
def test_over_a_limit_is_413_naming_the_limit(body: object, limit: str) -> None:
    err = refused(body)
    assert (err.status, err.limit) == (413, limit)
    assert f"--{limit.replace('_', '-')}" in err.message


def test_valid_request_keeps_defaults_and_values() -> None:
    req = parse_request(b'{"text": ["a", ""], "beam": 3, "nbest": 2, "attention": true}', LIMITS)
    assert req == TranslateRequest(text=["a", ""], beam=3, nbest=2, attention=True)
    assert parse_request(b'{"text": [], "beam": null}', LIMITS).beam is None


def test_invalid_utf8_in_the_body_is_replaced_like_translate() -> None:
    req = parse_request(b'{"text": ["a\xff b"]}', LIMITS)
    assert req.text == ["a\ufffd b"]


def test_clean_text_makes_one_line_as_a_file_would() -> None:
    assert clean_text("a b\n") == "a b"
    assert clean_text("a\r\n") == "a\r"  # the tokenizer's clean_line drops the CR, as for files
    assert clean_text("a\nb") == "a b"
    assert clean_text("x\ud800y") == "x\ufffdy"
    assert clean_text("a\u2028b\x00") == "a\u2028b\x00"  # left to clean_line / sentencepiece


def test_openapi_request_schema_lists_exactly_the_dataclass_fields() -> None:
    schema = request_schema()
    fields = dataclasses.fields(TranslateRequest)
    assert list(schema["properties"]) == [f.name for f in fields]
    assert schema["required"] == ["text"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["beam"]["minimum"] == 1
    assert schema["properties"]["text"]["items"] == {"type": "string"}
