"""The JSON API in-process (Starlette's TestClient on the real app, model and batcher thread).

Translations are checked against `nmtkit translate` (the pipeline, same checkpoint, same lines),
so the server cannot drift from the command's search or text handling.
"""

from __future__ import annotations

import json
import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.translate.translate_helpers import translate_file

MESSY = [
    "A man is riding a bike.",
    "",
    "   \t ",
    "Two dogs\r",  # a CRLF file's line, as the pipeline sees it before cleaning
    "A woman\u2028sings.",
    "A child\x00 plays.",
    "Ein ungültiges \ufffd Zeichen.",
    "A dog runs through the snow.",
]


def post(client: Any, body: Any, **kwargs: Any) -> Any:
    return client.post("/v1/translate", json=body, **kwargs)


def translate_reference(tmp_path: Path, checkpoint: Path, lines: list[str], **flags: Any) -> list:
    return translate_file(tmp_path, [checkpoint], lines, precision="fp32", threads=1, **flags)


def test_translations_equal_nmtkit_translate_on_messy_lines(
    client: Any, trained_checkpoint: Path, tmp_path: Path
) -> None:
    response = post(client, {"text": MESSY})
    assert response.status_code == 200
    got = [t["text"] for t in response.json()["translations"]]
    assert got == translate_reference(tmp_path, trained_checkpoint, MESSY)
    assert got[1] == got[2] == ""  # empty and whitespace-only lines: empty out
    assert response.json()["translations"][1]["score"] == 0.0


def test_invalid_utf8_and_crlf_bytes_behave_as_translate_reads_a_file(
    client: Any, trained_checkpoint: Path, tmp_path: Path
) -> None:
    raw = b'{"text": ["A man\xff\xfe is here.", "Two dogs\\r\\n", "A cat\\n"]}'
    response = client.post("/v1/translate", content=raw)
    assert response.status_code == 200
    file_bytes = b"A man\xff\xfe is here.\nTwo dogs\r\nA cat\n"
    want = translate_reference(tmp_path, trained_checkpoint, file_bytes)  # type: ignore[arg-type]
    assert [t["text"] for t in response.json()["translations"]] == want


def test_nbest_and_alignment_equal_translate_output(
    client: Any, trained_checkpoint: Path, tmp_path: Path
) -> None:
    lines = ["A man is riding a bike.", "", "Two dogs play."]
    body = post(client, {"text": lines, "beam": 4, "nbest": 3, "alignment": True}).json()
    ref = translate_reference(tmp_path, trained_checkpoint, lines, beam=4, nbest=3,
                              alignment=True)
    rows = []
    for i, t in enumerate(body["translations"]):
        for h in t["nbest"]:
            pharaoh = " ".join(f"{s}-{t}" for s, t in h["alignment"])
            tail = f"\t{pharaoh}" if lines[i] else ""  # translate: no alignment column there
            rows.append(f"{i}\t{h['score']:.4f}\t{h['text']}{tail}")
    assert rows == ref
    first = body["translations"][0]
    assert (first["text"], first["score"]) == (first["nbest"][0]["text"],
                                               first["nbest"][0]["score"])
    assert len(first["nbest"]) == 3
    assert body["translations"][1]["nbest"] == [{"text": "", "score": 0.0, "alignment": []}]


def test_attention_matrix_has_pieces_and_rows_that_sum_to_one(client: Any) -> None:
    body = post(client, {"text": ["A dog runs.", ""], "attention": True}).json()
    attn = body["translations"][0]["attention"]
    assert attn["source_pieces"][-1] == attn["target_pieces"][-1] == "</s>"
    weights = attn["weights"]
    assert len(weights) == len(attn["target_pieces"])
    for row in weights:
        assert len(row) == len(attn["source_pieces"])
        assert all(0.0 <= w <= 1.0 for w in row)
        assert math.isclose(sum(row), 1.0, abs_tol=5e-3)
    assert body["translations"][1]["attention"] == {
        "source_pieces": [], "target_pieces": [], "weights": []}


def test_concurrent_requests_are_batched_and_answered_in_their_own_order(client: Any) -> None:
    lines = [f"A man number {i} rides a bike." for i in range(24)]
    alone = [post(client, {"text": [x]}).json()["translations"][0]["text"] for x in lines[:6]]
    before = client.state.metrics.batch_sentences.count
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda x: post(client, {"text": [x, "", x]}), lines))
    for answer in answers:
        texts = [t["text"] for t in answer.json()["translations"]]
        assert texts[0] == texts[2] and texts[1] == ""
    assert [a.json()["translations"][0]["text"] for a in answers[:6]] == alone
    batches = client.state.metrics.batch_sentences.count - before
    assert batches < len(lines)  # some requests shared a batch


@pytest.mark.parametrize(
    ("body", "status", "key", "value"),
    [
        ({"text": ["a"], "nbest": 6, "beam": 5}, 422, "field", "nbest"),
        ({"text": ["a"], "nbest": 6}, 422, "field", "nbest"),  # server beam 5
        ({"text": ["a"], "beam": 9}, 422, "field", "beam"),  # --max-beam 8
        ({"text": ["a"] * 51}, 413, "limit", "max_lines"),
        ({"text": ["a" * 301]}, 413, "limit", "max_line_chars"),
        ({"text": ["\u00e9" * 290] * 49}, 413, "limit", "max_body_bytes"),  # 6 bytes a char
        ({"txt": ["a"]}, 422, "field", "txt"),
    ],
)
def test_errors_are_json_objects_naming_what_is_wrong(
    client: Any, body: Any, status: int, key: str, value: str
) -> None:
    response = post(client, body)
    assert response.status_code == status
    assert response.json()[key] == value and response.json()["message"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/v1/translate", 405), ("GET", "/nowhere", 404), ("POST", "/v1/health", 405),
     ("GET", "/static/../app.py", 404)],
)
def test_routing_errors_are_json_too(client: Any, method: str, path: str, status: int) -> None:
    response = client.request(method, path)
    assert response.status_code == status
    assert response.json()["status"] == status and response.json()["message"]


def test_malformed_json_is_400(client: Any) -> None:
    response = client.post("/v1/translate", content=b'{"text": [')
    assert response.status_code == 400 and "malformed JSON" in response.json()["message"]


def test_health_model_openapi_and_page(client: Any, trained_checkpoint: Path) -> None:
    assert client.get("/v1/health").json() == {"status": "ready"}
    info = client.get("/v1/model").json()
    assert info["checkpoints"][0]["path"] == str(trained_checkpoint)
    assert info["checkpoints"][0]["architecture"]["decoder"] == "bahdanau"
    assert info["tokenizer"]["src_vocab_size"] == 300 and info["search"]["beam"] == 5
    assert info["device"] == "cpu" and info["options"]["precision"] == "fp32"
    schema = client.get("/openapi.json").json()
    assert set(schema["paths"]) >= {"/v1/translate", "/v1/health", "/v1/model", "/metrics"}
    props = schema["components"]["schemas"]["TranslateRequest"]["properties"]
    assert set(props) == {"text", "beam", "nbest", "alignment", "attention"}
    page = client.get("/")
    assert page.status_code == 200 and "/static/explorer.js" in page.text
    assert "http" not in page.text.replace("http-equiv", "")  # nothing fetched from elsewhere
    for name in ("explorer.js", "explorer.css"):
        asset = client.get(f"/static/{name}")
        assert asset.status_code == 200 and "//cdn" not in asset.text


def test_metrics_count_requests_sentences_and_batches(client: Any) -> None:
    def value(text: str, name: str) -> float:
        line = next((x for x in text.splitlines() if x.startswith(name + " ")), f"{name} 0")
        return float(line.split()[-1])

    before = client.get("/metrics").text
    post(client, {"text": ["A man.", "", "Two dogs."]})
    post(client, {"text": "not a list"})
    after = client.get("/metrics").text
    assert value(after, "nmtkit_sentences_total") - value(before, "nmtkit_sentences_total") == 3
    ok = 'nmtkit_requests_total{path="/v1/translate",status="200"}'
    bad = 'nmtkit_requests_total{path="/v1/translate",status="422"}'
    assert value(after, ok) - value(before, ok) == 1
    assert value(after, bad) - value(before, bad) == 1
    assert value(after, "nmtkit_request_duration_seconds_count") >= 2
    batches = "nmtkit_batch_sentences_count"
    assert value(after, batches) > value(before, batches)
    assert "# TYPE nmtkit_request_duration_seconds histogram" in after


def test_api_key_is_required_when_set(trained_checkpoint: Path) -> None:
    from starlette.testclient import TestClient

    from nmtkit.serve.app import create_app
    from tests.serve.conftest import make_state

    state = make_state(trained_checkpoint, api_key="s3cret")
    with TestClient(create_app(state)) as c:
        assert c.get("/v1/health").status_code == 200  # probes need no key
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}):
            r = c.post("/v1/translate", json={"text": ["a"]}, headers=headers)
            assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
            assert "API key" in r.json()["message"]
        assert c.get("/metrics").status_code == 401
        ok = c.post("/v1/translate", json={"text": ["a"]},
                    headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200


def test_health_and_translate_answer_503_while_the_model_loads() -> None:
    from starlette.testclient import TestClient

    from nmtkit.search.config import SearchConfig
    from nmtkit.serve.app import create_app
    from nmtkit.serve.config import ServeConfig
    from nmtkit.serve.state import ServerState
    from nmtkit.translate.options import TranslateConfig

    state = ServerState(ServeConfig(), SearchConfig(), TranslateConfig())
    with TestClient(create_app(state)) as c:
        assert c.get("/v1/health").status_code == 503
        r = c.post("/v1/translate", json={"text": ["a"]})
        assert r.status_code == 503 and "loading" in r.json()["message"]
        assert json.loads(c.get("/v1/model").text)["status"] == 503
