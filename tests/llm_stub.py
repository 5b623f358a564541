"""
A stand-in for an OpenAI-compatible chat-completions server, on loopback.

Each test scripts what the server answers: ``stub.script(reply, ...)`` queues
replies for the next requests, in order, and ``stub.default`` answers once
the queue is empty. Every request is recorded (path, headers, JSON body,
arrival time) so tests can check what the generator sent, and the most
requests it held at once is kept as ``most_in_flight``.
"""

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: object = None
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    # A story that echoes the prompt, so tests see what each profile sent.
    echo: bool = False

    @classmethod
    def story(cls, text=None, *, prompt_tokens=12, completion_tokens=34, delay=0.0):
        """A good answer; without ``text`` the story quotes the prompt."""
        return cls(
            body=completion(text or "", prompt_tokens, completion_tokens),
            delay=delay,
            echo=text is None,
        )

    @classmethod
    def error(cls, status, message="", *, headers=None, delay=0.0):
        """An error in the shape OpenAI's API and most servers use."""
        return cls(
            status=status,
            body={"error": {"message": message, "type": "error"}},
            headers=headers or {},
            delay=delay,
        )

    @classmethod
    def raw(cls, data, *, status=200, content_type="text/html"):
        """Bytes as they are: a body that is not JSON."""
        return cls(status=status, body=data, headers={"Content-Type": content_type})


def completion(text, prompt_tokens=12, completion_tokens=34, finish_reason="stop"):
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": 0,
        "model": "stub",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict
    body: object
    arrived: float

    @property
    def prompt(self):
        return self.body["messages"][-1]["content"]


class ChatCompletionStub:
    def __init__(self):
        self.default = Reply.story()
        self.requests = []
        self.in_flight = 0
        self.most_in_flight = 0
        self._queue = deque()
        self._lock = threading.Lock()
        # Set on stop, so that slow replies end at once instead of keeping
        # their threads (and the test run) waiting.
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
        )

    @property
    def base_url(self):
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def script(self, *replies):
        with self._lock:
            self._queue.extend(replies)

    def _next_reply(self, received):
        with self._lock:
            self.requests.append(received)
            return self._queue.popleft() if self._queue else self.default

    def _count_in_flight(self, change):
        with self._lock:
            self.in_flight += change
            self.most_in_flight = max(self.most_in_flight, self.in_flight)

    def _handler_class(self):
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as separate writes: without this, Nagle's
            # algorithm and the client's delayed ACK add about 40 ms to each answer.
            disable_nagle_algorithm = True

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length)
                try:
                    body = json.loads(data)
                except ValueError:
                    body = data
                received = Received(
                    path=self.path,
                    headers=dict(self.headers.items()),
                    body=body,
                    arrived=time.monotonic(),
                )
                reply = stub._next_reply(received)
                stub._count_in_flight(+1)
                try:
                    if reply.delay and stub._stopping.wait(reply.delay):
                        return
                    self._send(reply, received)
                finally:
                    stub._count_in_flight(-1)

            def _send(self, reply, received):
                payload = reply.body
                if reply.echo:
                    payload = json.loads(json.dumps(payload))
                    message = payload["choices"][0]["message"]
                    message["content"] = f"A story from: {received.prompt}"
                if not isinstance(payload, bytes):
                    payload = json.dumps(payload).encode()
                headers = {"Content-Type": "application/json", **reply.headers}
                try:
                    self.send_response(reply.status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up waiting (a timeout test)

            def log_message(self, format, *args):
                pass  # keep test output quiet

        return Handler
