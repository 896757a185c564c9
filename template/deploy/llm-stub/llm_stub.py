"""A deterministic stand-in for an OpenAI-compatible API: dev and test stacks only.

Template-owned (`make update` merges changes); never part of the prod stack.
Implements what the sample code uses: GET /v1/models and POST
/v1/chat/completions, with and without `"stream": true` (Server-Sent Events
in OpenAI's chunk format, ending with `data: [DONE]`). Standard library only.

Deterministic: the answer is derived from a hash of the model and the
messages, so the same request always gets the same response. The model name
chooses the behaviour:

- `*-always-fail-*`: every request fails (HTTP 500 with OpenAI's error JSON);
- `*-fail-once-*`: the FIRST request of a key fails (HTTP 500), later ones
  succeed. The key is the model plus the request's `user` field (the sample
  worker sends the run id), so runs, retries and parallel tests never share
  their first failure; each stack has its own stand-in besides;
- `*-rate-limited-*`: every request answers 429 (rate limit) with OpenAI's error JSON;
- `*-slow-*`: the answer takes SLOW_SECONDS (5) to arrive, spread over its chunks
  (streamed) or before it (not streamed): time to stop a worker mid-run;
- anything else (`gpt-3.5-turbo`, ...) succeeds.

Every request is logged as one JSON line on stdout (the test scripts keep it
with the other logs). Run: `python llm_stub.py` (PORT, default 8080).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODELS = ("gpt-3.5-turbo", "gpt-4o-mini")
# How long a `*-slow-*` model takes to answer (seconds).
SLOW_SECONDS = float(os.environ.get("SLOW_SECONDS", "5"))
CREATED = 1700000000  # a fixed timestamp: responses depend on the request only
WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
         "india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa")


class StubError(Exception):
    """A failure the stand-in answers with: HTTP status and OpenAI's error object."""

    def __init__(self, status: int, message: str, kind: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"message": message, "type": kind, "param": None, "code": code}}


class Conventions:
    """The model-name conventions, with the fail-once memory (thread-safe)."""

    def __init__(self) -> None:
        self._seen: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def check(self, model: str, user: str) -> None:
        """Raise StubError when this request must fail."""
        if "-always-fail-" in model or model.endswith("-always-fail"):
            raise StubError(500, f"The model {model} always fails (stand-in convention)",
                            "server_error", "always_fail")
        if "-rate-limited-" in model or model.endswith("-rate-limited"):
            raise StubError(429, f"Rate limit reached for {model} (stand-in convention)",
                            "rate_limit_error", "rate_limit_exceeded")
        if "-fail-once-" in model or model.endswith("-fail-once"):
            key = (model, user)
            with self._lock:
                first = key not in self._seen
                self._seen.add(key)
            if first:
                raise StubError(500, f"The model {model} fails the first request of "
                                f"user {user!r} (stand-in convention)", "server_error", "fail_once")


def delay(model: str) -> float:
    """Seconds the answer of this model takes (the `*-slow-*` convention), else 0."""
    return SLOW_SECONDS if "-slow-" in model or model.endswith("-slow") else 0.0


def answer(model: str, messages: list) -> str:
    """The deterministic reply to these messages: words chosen by their hash."""
    digest = hashlib.sha256(json.dumps([model, messages], sort_keys=True).encode()).digest()
    return "Stub reply: " + " ".join(WORDS[byte % len(WORDS)] for byte in digest[:8]) + "."


def completion_id(model: str, messages: list) -> str:
    digest = hashlib.sha256(json.dumps([model, messages], sort_keys=True).encode()).hexdigest()
    return f"chatcmpl-stub-{digest[:24]}"


def usage(messages: list, content: str) -> dict[str, int]:
    prompt = sum(len(str(m.get("content", "")).split()) for m in messages if isinstance(m, dict))
    completion = len(content.split())
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}


def completion(model: str, messages: list) -> dict:
    content = answer(model, messages)
    return {
        "id": completion_id(model, messages),
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                     "logprobs": None, "finish_reason": "stop"}],
        "usage": usage(messages, content),
    }


def chunks(model: str, messages: list) -> list[dict]:
    """The streamed form of completion(): a role chunk, one chunk a word, a final stop chunk."""
    content = answer(model, messages)
    base = {"id": completion_id(model, messages), "object": "chat.completion.chunk",
            "created": CREATED, "model": model}
    pieces = [word + " " for word in content.split(" ")]
    pieces[-1] = pieces[-1].rstrip()
    deltas = [{"role": "assistant", "content": ""}] + [{"content": piece} for piece in pieces]
    out = [{**base, "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                 "finish_reason": None}]} for delta in deltas]
    out.append({**base, "choices": [{"index": 0, "delta": {}, "logprobs": None,
                                     "finish_reason": "stop"}]})
    return out


def parse_request(body: bytes) -> tuple[str, list, str, bool]:
    """(model, messages, user, stream) of a chat completion request, or StubError 400."""
    try:
        data = json.loads(body or b"{}")
    except ValueError as error:
        raise StubError(400, f"invalid JSON body: {error}", "invalid_request_error") from error
    if not isinstance(data, dict):
        raise StubError(400, "the body must be a JSON object", "invalid_request_error")
    model, messages = data.get("model"), data.get("messages")
    if not isinstance(model, str) or not model:
        raise StubError(400, "you must provide a model parameter", "invalid_request_error")
    if not isinstance(messages, list) or not messages:
        raise StubError(400, "messages must be a non-empty list", "invalid_request_error")
    return model, messages, str(data.get("user") or ""), bool(data.get("stream"))


class Handler(BaseHTTPRequestHandler):
    server_version = "llm-stub/1"
    protocol_version = "HTTP/1.1"
    conventions = Conventions()
    # Where the request log goes: stdout unless set (the template's tests set it).
    log_stream = None

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
        """Silenced: every request is logged once, as JSON, by log_request_json."""

    def log_request_json(self, status: int, **fields: object) -> None:
        entry = {"time": round(time.time(), 3), "method": self.command, "path": self.path,
                 "status": status, **fields}
        stream = self.log_stream or sys.stdout
        stream.write(json.dumps(entry, sort_keys=True) + "\n")
        stream.flush()

    def send_json(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path == "/health":
            self.send_json(200, {"status": "ok", "service": "llm-stub"})
            return  # not logged: the healthcheck asks every second
        if self.path == "/v1/models":
            self.log_request_json(200)
            self.send_json(200, {"object": "list", "data": [
                {"id": name, "object": "model", "created": CREATED, "owned_by": "llm-stub"}
                for name in MODELS]})
            return
        self.not_found()

    def not_found(self) -> None:
        error = StubError(404, f"unknown path {self.path}", "invalid_request_error")
        self.log_request_json(404)
        self.send_json(404, error.body)

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path != "/v1/chat/completions":
            self.not_found()
            return
        model = user = ""
        stream = False
        try:
            model, messages, user, stream = parse_request(body)
            self.conventions.check(model, user)
        except StubError as error:
            self.log_request_json(error.status, model=model, user=user, stream=stream,
                                  error=error.body["error"]["message"])
            self.send_json(error.status, error.body)
            return
        # Logged before the answer leaves: whoever reads the log after the answer sees it.
        self.log_request_json(200, model=model, user=user, stream=stream)
        pause = delay(model)
        if not stream:
            time.sleep(pause)  # the slow convention: a model that takes its time
            self.send_json(200, completion(model, messages))
        else:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            parts = chunks(model, messages)
            for chunk in parts:
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
                time.sleep(pause / len(parts))
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True


def main() -> None:
    port = int(os.environ.get("PORT", "8080"))
    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)  # noqa: S104 - in a container
    sys.stdout.write(json.dumps({"event": "listening", "port": port}) + "\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
