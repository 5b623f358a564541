"""
A stand-in chat-completions server on loopback that answers every request
after a fixed delay, as a model that takes that long would. It serves for a
bounded time and number of requests, then stops by itself.

    python -m bench.stub_llm --delay 0.05 --max-seconds 300

Prints its port on the first line of standard output.
"""

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STORY = (
    "{name} has served in Congress for years, known at home for long town "
    "meetings and short speeches."
)


class StubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as separate writes: without this, Nagle's
    # algorithm and the client's delayed ACK add about 40 ms to each answer.
    disable_nagle_algorithm = True

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not self.path.endswith("/chat/completions"):
            self._answer(404, {"error": {"message": "no such endpoint"}})
            return
        prompt = json.loads(body)["messages"][0]["content"]
        time.sleep(self.server.delay)
        self.server.count()
        name = prompt.split(" of ", 1)[-1].split(".", 1)[0][:80]
        self._answer(
            200,
            {
                "id": "stub",
                "object": "chat.completion",
                "choices": [
                    {
                        "index": 0,
                        "message": {
                            "role": "assistant",
                            "content": STORY.format(name=name),
                        },
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": len(prompt) // 4, "completion_tokens": 30},
            },
        )

    def _answer(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        pass


class StubServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, *, delay, max_requests):
        super().__init__(("127.0.0.1", 0), StubHandler)
        self.delay = delay
        self.max_requests = max_requests
        self.requests = 0
        self._lock = threading.Lock()

    def count(self):
        with self._lock:
            self.requests += 1
            if self.requests >= self.max_requests:
                threading.Thread(target=self.shutdown, daemon=True).start()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.stub_llm")
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--max-seconds", type=float, default=300)
    parser.add_argument("--max-requests", type=int, default=100_000)
    args = parser.parse_args(argv)

    server = StubServer(delay=args.delay, max_requests=args.max_requests)
    timer = threading.Timer(args.max_seconds, server.shutdown)
    timer.daemon = True
    timer.start()
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
