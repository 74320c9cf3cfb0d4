"""The receiver Alertmanager's webhooks post to (ops/alertmanager/alertmanager.yml): a stand-in for the on-call
chat or pager bridge. ``POST /<receiver>`` with Alertmanager's webhook JSON appends one line
``{"received_at": ..., "receiver": <path>, "status": ..., "alerts": [{alertname, severity, summary, runbook,
startsAt, endsAt, status}]}`` to ``ALERT_SINK_FILE`` (default /alerts/alerts.jsonl) and prints it;
``GET /health`` answers 200 (the container's health check).

Standard library only, so it runs in a bare ``python:3.11-slim`` container (docker-compose service
``alert-sink``) and here: ``python ops/alertmanager/alert_sink.py --port 9099 --file /tmp/alerts.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MAX_BODY = 1 << 20
_lock = threading.Lock()


def summarise(receiver: str, payload: dict) -> dict:
    alerts = []
    for a in payload.get("alerts") or []:
        labels, notes = a.get("labels") or {}, a.get("annotations") or {}
        alerts.append({"alertname": labels.get("alertname"), "severity": labels.get("severity"),
                       "status": a.get("status"), "summary": notes.get("summary"), "runbook": notes.get("runbook"),
                       "startsAt": a.get("startsAt"), "endsAt": a.get("endsAt"), "labels": labels})
    return {"received_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "receiver": receiver,
            "status": payload.get("status"), "group": payload.get("groupLabels"), "alerts": alerts}


def make_handler(out: Path) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._answer(200 if self.path == "/health" else 404)

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 < length <= MAX_BODY:
                return self._answer(413 if length else 400)
            try:
                payload = json.loads(self.rfile.read(length))
            except ValueError:
                return self._answer(400)
            if not isinstance(payload, dict):
                return self._answer(400)
            line = json.dumps(summarise(self.path.strip("/") or "default", payload), ensure_ascii=False)
            with _lock, out.open("a", encoding="utf-8") as f:
                f.write(line + "\n")
            print(line, flush=True)
            return self._answer(200)

        def _answer(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet: the lines say enough
            pass

    return Handler


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Alertmanager webhook receiver writing JSON lines to a file")
    p.add_argument("--host", default=os.environ.get("ALERT_SINK_HOST", "0.0.0.0"))
    p.add_argument("--port", type=int, default=int(os.environ.get("ALERT_SINK_PORT", "9099")))
    p.add_argument("--file", type=Path, default=Path(os.environ.get("ALERT_SINK_FILE", "/alerts/alerts.jsonl")))
    args = p.parse_args(argv)
    args.file.parent.mkdir(parents=True, exist_ok=True)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(args.file))
    print(f"alert-sink: listening on {args.host}:{server.server_port}, writing {args.file}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
