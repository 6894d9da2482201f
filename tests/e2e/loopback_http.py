"""Real HTTP servers on 127.0.0.1 (ephemeral ports) for the orchestration tests: they record
every request (method, path, query, headers, JSON body) and answer by a scripted behaviour.

- `RecordingServer(behaviour)`: a webhook receiver. Behaviours: "ok" (200), "fail_then_ok"
  (500 for the first `failures` requests, then 200), "always_500", "slow" (sleeps `delay`
  seconds before answering 200).
- `JobsApiServer(runs, token)`: the two Databricks Jobs API 2.1 calls data_loader makes:
  GET /api/2.1/jobs/runs/list?job_id=..&limit=1 (answers {"runs": [...]} from `runs[job_id]`,
  newest first) and POST /api/2.1/jobs/run-now {"job_id": N} (answers {"run_id": ...}).
  With `token`, requests without "Authorization: Bearer <token>" get 401.
- `closed_port()`: a port nothing listens on (connections are refused).
"""
from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class LoopbackServer:
    """A recording JSON server on 127.0.0.1; subclasses answer each request."""

    def __init__(self):
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def answer(self, method: str, path: str, query: dict, headers: dict, body) -> tuple[int, dict]:
        raise NotImplementedError

    def _handler_class(self):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _serve(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                try:
                    body = json.loads(raw) if raw else None
                except json.JSONDecodeError:
                    body = {"_unparsed": raw.decode(errors="replace")}
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                rec = {"method": self.command, "path": parts.path, "query": query,
                       "headers": dict(self.headers), "body": body}
                with outer.lock:
                    outer.requests.append(rec)
                status, reply = outer.answer(self.command, parts.path, query, rec["headers"], body)
                data = json.dumps(reply).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout): nothing to answer

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        return Handler


class RecordingServer(LoopbackServer):
    def __init__(self, behaviour: str = "ok", failures: int = 1, delay: float = 0.0):
        super().__init__()
        self.behaviour, self.failures, self.delay = behaviour, failures, delay

    def answer(self, method, path, query, headers, body):
        with self.lock:
            n = len(self.requests)
        if self.behaviour == "slow":
            time.sleep(self.delay)
            return 200, {"ok": True}
        if self.behaviour == "always_500" or (self.behaviour == "fail_then_ok" and n <= self.failures):
            return 500, {"error": "server error"}
        return 200, {"ok": True}


class JobsApiServer(LoopbackServer):
    def __init__(self, runs: dict[int, list[dict]] | None = None, token: str | None = None):
        super().__init__()
        self.runs = runs or {}
        self.token = token
        self.next_run_id = 1000

    def answer(self, method, path, query, headers, body):
        if self.token and headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {"error_code": "PERMISSION_DENIED", "message": "bad token"}
        if method == "GET" and path == "/api/2.1/jobs/runs/list":
            try:
                job_id = int(query.get("job_id", ""))
            except ValueError:
                return 400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "job_id"}
            limit = int(query.get("limit", "25"))
            return 200, {"runs": self.runs.get(job_id, [])[:limit], "has_more": False}
        if method == "POST" and path == "/api/2.1/jobs/run-now":
            if not isinstance(body, dict) or not isinstance(body.get("job_id"), int):
                return 400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "job_id"}
            with self.lock:
                self.next_run_id += 1
                return 200, {"run_id": self.next_run_id, "number_in_job": self.next_run_id}
        return 404, {"error_code": "ENDPOINT_NOT_FOUND", "message": path}


def run(run_id: int, life_cycle_state: str, result_state: str | None = None) -> dict:
    state = {"life_cycle_state": life_cycle_state, "state_message": ""}
    if result_state:
        state["result_state"] = result_state
    return {"job_id": 0, "run_id": run_id, "state": state}
