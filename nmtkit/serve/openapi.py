"""The OpenAPI 3.1 document served at /openapi.json; the request schema comes from schema.py."""

from __future__ import annotations

from typing import Any

from nmtkit import __version__
from nmtkit.serve.schema import request_schema

_NUM = {"type": "number"}
_STR = {"type": "string"}
_PAIRS = {
    "type": "array",
    "description": "[source piece, target piece] index pairs (</s> excluded).",
    "items": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
}
_ATTENTION = {
    "type": "object",
    "description": "Cross-attention: one row per target piece, one column per source piece "
    "(both with </s>); each row sums to 1.",
    "properties": {
        "source_pieces": {"type": "array", "items": _STR},
        "target_pieces": {"type": "array", "items": _STR},
        "weights": {"type": "array", "items": {"type": "array", "items": _NUM}},
    },
}
_HYP = {"type": "object", "properties": {"text": _STR, "score": _NUM, "alignment": _PAIRS}}
_TRANSLATION = {
    "type": "object",
    "required": ["text", "score"],
    "properties": {
        "text": _STR,
        "score": {"type": "number", "description": "Length-normalised log-probability."},
        "nbest": {"type": "array", "items": _HYP, "description": "With nbest >= 1."},
        "alignment": _PAIRS,
        "attention": _ATTENTION,
    },
}
_ERROR = {
    "type": "object",
    "required": ["status", "message"],
    "properties": {
        "status": {"type": "integer"},
        "message": _STR,
        "field": {"type": "string", "description": "The request field at fault (422)."},
        "limit": {"type": "string", "description": "The server limit exceeded (413, 503)."},
    },
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERROR_CODES = {
    400: "Malformed JSON.",
    401: "Missing or wrong API key (when the server has one).",
    413: "Over a size limit; `limit` names it.",
    422: "A field has the wrong type, is unknown, or asks for an unsupported option.",
    503: "The model is loading, or the request exceeded --timeout.",
}


def openapi_schema() -> dict[str, Any]:
    responses = {f"E{c}": _json({"$ref": "#/components/schemas/Error"}, d)
                 for c, d in ERROR_CODES.items()}
    ref = {str(c): {"$ref": f"#/components/responses/E{c}"} for c in ERROR_CODES}
    secured = [{"bearer": []}]
    return {
        "openapi": "3.1.0",
        "info": {"title": "nmtkit translation server", "version": __version__},
        "paths": {
            "/v1/translate": {"post": {
                "summary": "Translate lines (batched with concurrent requests).",
                "security": secured,
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/TranslateRequest"}}}},
                "responses": {"200": _json({
                    "type": "object",
                    "properties": {"translations": {"type": "array", "items": _TRANSLATION}},
                }, "One translation per line, in request order.")} | ref,
            }},
            "/v1/health": {"get": {"summary": "200 ready once the model is loaded, else 503.",
                                   "responses": {"200": _json({"type": "object"}, "Ready."),
                                                 "503": _json({"type": "object"}, "Loading.")}}},
            "/v1/model": {"get": {
                "summary": "Architecture, tokenizer, checkpoint identity and options.",
                "security": secured,
                "responses": {"200": _json({"type": "object"}, "Model information."),
                              "401": ref["401"], "503": ref["503"]}}},
            "/metrics": {"get": {"summary": "Prometheus text format metrics.",
                                 "security": secured,
                                 "responses": {"200": {"description": "text/plain"}}}},
            "/": {"get": {"summary": "The attention explorer page.",
                          "responses": {"200": {"description": "text/html"}}}},
        },
        "components": {
            "schemas": {"TranslateRequest": request_schema(), "Error": _ERROR},
            "responses": responses,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
