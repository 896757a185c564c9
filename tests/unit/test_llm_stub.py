"""The llm component's stand-in (template/deploy/llm-stub/llm_stub.py): its conventions.

The file is copied into projects as it is (not rendered), so it is imported
from the template and served on a free loopback port; requests go over HTTP
as the openai client sends them. Docker runs it in tests/docker/test_docker.py.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from types import ModuleType

import pytest
from support import TEMPLATE

STUB = TEMPLATE / "template" / "deploy" / "llm-stub" / "llm_stub.py"


@pytest.fixture(scope="module")
def stub() -> ModuleType:
    spec = importlib.util.spec_from_file_location("llm_stub_under_test", STUB)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def server(stub: ModuleType) -> Iterator[tuple[str, io.StringIO]]:
    """A fresh stand-in (its own fail-once memory) on a free port, and its request log."""
    log = io.StringIO()
    handler = type("Handler", (stub.Handler,), {"conventions": stub.Conventions(),
                                                 "log_stream": log})
    httpd = stub.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", log
    finally:
        httpd.shutdown()
        httpd.server_close()


def call(url: str, body: dict | None = None) -> tuple[int, str, bytes]:
    """(status, content type, body) of a GET, or of a POST of body as JSON."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        with contextlib.closing(error):
            return error.code, error.headers["Content-Type"], error.read()


def chat(base: str, model: str, user: str = "", stream: bool = False,
         content: str = "hello") -> tuple[int, str, bytes]:
    return call(f"{base}/v1/chat/completions", {
        "model": model, "messages": [{"role": "user", "content": content}], "user": user,
        "stream": stream})


def sse_chunks(body: bytes) -> list[str]:
    """The data fields of an SSE body, in order."""
    events = body.decode().split("\n\n")
    assert events[-1] == "", f"the stream must end with a blank line: {body!r}"
    assert all(event.startswith("data: ") for event in events[:-1]), body
    return [event.removeprefix("data: ") for event in events[:-1]]


def test_models_lists_the_default_model(server: tuple[str, io.StringIO]) -> None:
    status, kind, body = call(f"{server[0]}/v1/models")
    assert (status, kind) == (200, "application/json")
    data = json.loads(body)
    assert data["object"] == "list"
    assert "gpt-3.5-turbo" in [model["id"] for model in data["data"]], data


def test_same_request_same_response(server: tuple[str, io.StringIO]) -> None:
    first = chat(server[0], "gpt-3.5-turbo", content="deterministic?")
    second = chat(server[0], "gpt-3.5-turbo", content="deterministic?")
    other = chat(server[0], "gpt-3.5-turbo", content="something else")
    assert first[0] == 200 and first == second, (first, second)
    completion = json.loads(first[2])
    assert completion["object"] == "chat.completion"
    assert completion["choices"][0]["finish_reason"] == "stop"
    assert completion["choices"][0]["message"]["role"] == "assistant"
    assert json.loads(other[2])["choices"][0]["message"]["content"] != (
        completion["choices"][0]["message"]["content"])


def test_stream_is_openai_chunks_ending_with_done(server: tuple[str, io.StringIO]) -> None:
    status, kind, body = chat(server[0], "gpt-3.5-turbo", stream=True)
    assert (status, kind) == (200, "text/event-stream")
    data = sse_chunks(body)
    assert data[-1] == "[DONE]", data
    chunks = [json.loads(item) for item in data[:-1]]
    assert {chunk["object"] for chunk in chunks} == {"chat.completion.chunk"}
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    streamed = "".join(chunk["choices"][0]["delta"].get("content", "") for chunk in chunks)
    whole = json.loads(chat(server[0], "gpt-3.5-turbo")[2])
    assert streamed == whole["choices"][0]["message"]["content"]


def test_fail_once_fails_the_first_request_of_each_key(server: tuple[str, io.StringIO]) -> None:
    model = "gpt-3.5-turbo-fail-once-test"
    first = chat(server[0], model, user="run-1")
    assert first[0] == 500, first
    assert json.loads(first[2])["error"]["type"] == "server_error"
    assert chat(server[0], model, user="run-1")[0] == 200
    assert chat(server[0], model, user="run-1", stream=True)[0] == 200
    # Another key (user, or model) fails its own first request.
    assert chat(server[0], model, user="run-2")[0] == 500
    assert chat(server[0], "gpt-4o-mini-fail-once-test", user="run-1")[0] == 500


def test_always_fail_and_rate_limited_answer_openai_errors(server: tuple[str, io.StringIO]) -> None:
    for _ in range(3):
        status, kind, body = chat(server[0], "gpt-3.5-turbo-always-fail-test", user="run-1")
        assert (status, kind) == (500, "application/json")
        error = json.loads(body)["error"]
        assert set(error) == {"message", "type", "param", "code"}, error
        assert "always fails" in error["message"]
    status, _, body = chat(server[0], "x-rate-limited-y", stream=True)
    assert status == 429 and json.loads(body)["error"]["type"] == "rate_limit_error"


def test_bad_requests_are_refused_with_400(server: tuple[str, io.StringIO]) -> None:
    status, _, body = call(f"{server[0]}/v1/chat/completions", {"messages": []})
    assert status == 400 and "model" in json.loads(body)["error"]["message"]
    assert call(f"{server[0]}/v1/nothing")[0] == 404


def test_every_request_is_one_json_line(server: tuple[str, io.StringIO]) -> None:
    base, log = server
    chat(base, "gpt-3.5-turbo", user="run-9")
    chat(base, "m-fail-once-x", user="run-9")
    call(f"{base}/health")  # the healthcheck's requests are left out
    lines = [json.loads(line) for line in log.getvalue().splitlines()]
    assert [(e["path"], e["status"], e["model"], e["user"]) for e in lines] == [
        ("/v1/chat/completions", 200, "gpt-3.5-turbo", "run-9"),
        ("/v1/chat/completions", 500, "m-fail-once-x", "run-9"),
    ], lines


def test_slow_models_take_their_time(stub: ModuleType, server: tuple[str, io.StringIO],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """`*-slow-*`: the same answer, SLOW_SECONDS later (a worker can be stopped mid-run)."""
    assert stub.delay("gpt-3.5-turbo-slow-int005") == stub.SLOW_SECONDS == 5.0
    assert stub.delay("gpt-3.5-turbo") == 0.0
    monkeypatch.setattr(stub, "SLOW_SECONDS", 0.4)
    started = time.monotonic()
    status, _, body = chat(server[0], "gpt-3.5-turbo-slow-test", stream=True)
    assert status == 200 and sse_chunks(body)[-1] == "[DONE]", body
    assert time.monotonic() - started >= 0.4
