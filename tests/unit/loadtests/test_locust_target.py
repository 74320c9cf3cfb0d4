"""Which service the locust runner loads by default: the one `make run` started (its URL from .data/dev.env,
checked to answer as a voting service), never whatever listens on a default port; else a stack of its own."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from devtools.ports import free_port
from loadtests.locust import __main__ as runner


class _Voting(BaseHTTPRequestHandler):
    campaigns: bytes = b"[]"

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = {"/health/live": b'{"status":"ok"}', "/api/v1/campaigns": self.campaigns}.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body or b"{}")

    def log_message(self, *_: object) -> None:
        pass


class _Other(_Voting):
    campaigns = b'{"not": "a voting service"}'


@pytest.fixture
def server(request):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), request.param)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def dev_env(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "dev.env"
    path.write_text(f"APP_ENV=development\nVOTING_URL={url}\nADMIN_URL=http://127.0.0.1:1\n")
    return path


@pytest.mark.parametrize("server", [_Voting], indirect=True)
def test_the_default_target_is_the_make_run_service_named_in_dev_env(server, tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "DEV_ENV", dev_env(tmp_path, server))
    assert runner.make_run_url(runner.DEV_ENV) == server
    o, _ = runner.parse_args(["steady"])
    assert runner.target(o) == server
    o, _ = runner.parse_args(["steady", "--host", "make-run"])
    assert runner.target(o) == server
    o, _ = runner.parse_args(["steady", "--own-stack"])
    assert runner.target(o) == ""
    o, _ = runner.parse_args(["steady", "--host", "http://example.test:9/"])
    assert runner.target(o) == "http://example.test:9"


@pytest.mark.parametrize("server", [_Other], indirect=True)
def test_something_else_on_that_port_is_not_a_target(server, tmp_path):
    assert runner.make_run_url(dev_env(tmp_path, server)) == ""


def test_without_make_run_the_runner_starts_its_own_stack(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "DEV_ENV", dev_env(tmp_path, f"http://127.0.0.1:{free_port()}"))
    assert runner.make_run_url(runner.DEV_ENV) == ""
    assert runner.make_run_url(tmp_path / "missing.env") == ""
    o, _ = runner.parse_args(["results"])
    assert runner.target(o) == ""
    o, _ = runner.parse_args(["results", "--host", "make-run"])
    with pytest.raises(SystemExit, match="make run"):
        runner.target(o)

