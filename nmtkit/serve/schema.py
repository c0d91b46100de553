"""The translate request, declared once: validation (400/413/422) and its OpenAPI schema.

Each field of TranslateRequest carries its help and bounds; `parse_request` checks a body against
the fields (strictly: `"5"` is not a beam, `true` is not an int) and `request_schema` writes the
same fields as JSON Schema, so the documentation cannot drift from what the server accepts.
"""

from __future__ import annotations

import dataclasses
import json
import re
import typing
from typing import Any

from nmtkit.serve.config import ServeConfig
from nmtkit.serve.errors import ApiError

_SURROGATES = re.compile("[\ud800-\udfff]")


def api_field(default: Any, *, help: str, minimum: int | None = None) -> Any:
    meta = {"help": help, "minimum": minimum}
    if default is dataclasses.MISSING:
        return dataclasses.field(metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


@dataclasses.dataclass(frozen=True, kw_only=True)
class TranslateRequest:
    """Body of POST /v1/translate."""

    text: list[str] = api_field(
        dataclasses.MISSING,
        help="Source lines; one translation each, in request order. Empty in, empty out.",
    )
    beam: int | None = api_field(None, help="Beam size (default: the server's --beam).", minimum=1)
    nbest: int = api_field(
        0, help="Also return the N best hypotheses, best first (0: off; N <= beam).", minimum=0
    )
    alignment: bool = api_field(
        False, help="Return hard alignments: [source piece, target piece] index pairs."
    )
    attention: bool = api_field(
        False, help="Return the cross-attention matrix with its source and target pieces."
    )


_HINTS = typing.get_type_hints(TranslateRequest)
_KIND = {bool: "a boolean", int: "an integer", str: "a string", list: "a list"}


def _json_type(value: Any) -> str:
    names = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
             dict: "object", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _check_value(name: str, value: Any, tp: Any) -> Any:
    """value if it has type tp (strict JSON typing), else a 422 naming the field."""
    if tp == int | None:
        if value is None:
            return None
        tp = int
    if tp == list[str]:
        if not isinstance(value, list):
            raise ApiError(422, f"{name}: expected a list of strings, got {_json_type(value)}",
                           field=name)
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise ApiError(422, f"{name}[{i}]: expected a string, got {_json_type(item)}",
                               field=f"{name}[{i}]")
        return value
    ok = isinstance(value, tp) and (tp is bool or not isinstance(value, bool))
    if not ok:
        raise ApiError(422, f"{name}: expected {_KIND[tp]}, got {_json_type(value)}", field=name)
    return value


def decode_json(body: bytes) -> Any:
    """Parse a body; invalid UTF-8 is replaced (as `nmtkit translate` does), bad JSON is 400."""
    text = body.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ApiError(
            400, f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise ApiError(400, "malformed JSON: nested too deeply") from None


def parse_request(body: bytes, limits: ServeConfig) -> TranslateRequest:
    """A validated TranslateRequest, or ApiError (400 JSON, 422 fields/options, 413 limits)."""
    data = decode_json(body)
    if not isinstance(data, dict):
        raise ApiError(422, f"the body must be a JSON object, got {_json_type(data)}",
                       field="(body)")
    fields = {f.name: f for f in dataclasses.fields(TranslateRequest)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ApiError(422, f"unknown field {unknown[0]!r} (known: {', '.join(fields)})",
                       field=unknown[0])
    values = {}
    for name, f in fields.items():
        if name not in data:
            if f.default is dataclasses.MISSING:
                raise ApiError(422, f"{name}: missing (a required field)", field=name)
            continue
        values[name] = _check_value(name, data[name], _HINTS[name])
    request = TranslateRequest(**values)
    check_limits(request, limits)
    check_options(request, limits)
    return request


def check_limits(request: TranslateRequest, limits: ServeConfig) -> None:
    if len(request.text) > limits.max_lines:
        raise ApiError(413, f"{len(request.text)} lines exceed the limit of {limits.max_lines} "
                       "per request (--max-lines)", limit="max_lines")
    for i, line in enumerate(request.text):
        if len(line) > limits.max_line_chars:
            raise ApiError(413, f"text[{i}] has {len(line)} characters, over the limit of "
                           f"{limits.max_line_chars} (--max-line-chars)", limit="max_line_chars")


def check_options(request: TranslateRequest, limits: ServeConfig) -> None:
    for f in dataclasses.fields(TranslateRequest):
        value, minimum = getattr(request, f.name), f.metadata["minimum"]
        if minimum is not None and value is not None and value < minimum:
            raise ApiError(422, f"{f.name} must be >= {minimum}, got {value}", field=f.name)
    if request.beam is not None and request.beam > limits.max_beam:
        raise ApiError(422, f"beam {request.beam} exceeds this server's limit of "
                       f"{limits.max_beam} (--max-beam)", field="beam")


def clean_text(line: str) -> str:
    """One request line as `nmtkit translate` would read it from a file.

    A final newline ends the line (dropped); any other newline cannot occur inside a line of a
    file, so it becomes a space. Lone surrogates (valid JSON escapes, not text) become U+FFFD,
    like invalid UTF-8 in a file. CR, U+2028 and friends are left to the tokenizer's clean_line.
    """
    if line.endswith("\n"):
        line = line[:-1]
    return _SURROGATES.sub("\ufffd", line.replace("\n", " "))


def _field_schema(f: dataclasses.Field) -> dict[str, Any]:
    tp = _HINTS[f.name]
    schema: dict[str, Any]
    if tp == list[str]:
        schema = {"type": "array", "items": {"type": "string"}}
    elif tp == int | None:
        schema = {"type": ["integer", "null"]}
    else:
        schema = {"type": {int: "integer", bool: "boolean", str: "string"}[tp]}
    schema["description"] = f.metadata["help"]
    if f.metadata["minimum"] is not None:
        schema["minimum"] = f.metadata["minimum"]
    if f.default is not dataclasses.MISSING:
        schema["default"] = f.default
    return schema


def request_schema() -> dict[str, Any]:
    """JSON Schema of TranslateRequest (for /openapi.json)."""
    fields = dataclasses.fields(TranslateRequest)
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [f.name for f in fields if f.default is dataclasses.MISSING],
        "properties": {f.name: _field_schema(f) for f in fields},
    }
