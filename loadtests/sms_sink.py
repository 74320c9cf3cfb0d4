"""A stand-in SMS gateway for the bench's sign-in phase: ``python -m loadtests.sms_sink --port N``.

Answers every HTTP request with 202 and an empty body, keep-alive, from a bare asyncio protocol (the real
gateway is another company's server; this one should cost the machine as little as possible). It reads each
request's headers and the declared body and forgets them: no code is kept anywhere."""

from __future__ import annotations

import argparse
import asyncio

REPLY = b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n"


class Sink(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.t = transport
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            head, sep, rest = self.buf.partition(b"\r\n\r\n")
            if not sep:
                return
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip() or b"0")
            if len(rest) < length:
                return
            self.buf = rest[length:]
            self.t.write(REPLY)  # type: ignore[attr-defined]


async def serve(host: str, port: int) -> None:
    server = await asyncio.get_running_loop().create_server(Sink, host, port)
    async with server:
        await server.serve_forever()


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m loadtests.sms_sink")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    o = p.parse_args()
    asyncio.run(serve(o.host, o.port))


if __name__ == "__main__":
    main()
