"""What the loopback stand-ins of outside systems (GIS TP, YooKassa, T-Bank, Sber) share: an HTTP server
in a thread of its own that starts, stops (waking a held request rather than waiting it out) and runs by
hand until Ctrl-C or SIGTERM. Each stand-in adds only its protocol: a `LoopbackHandler` subclass, a name
and the path its URL points at. Only the standard library: it runs wherever the portal runs.
"""
import signal
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class _Server(ThreadingHTTPServer):
    # server_close() joins only non-daemon handler threads; joined, none outlives stop(). None of them
    # can hold it up for long: a delayed one is woken by stop(), a reading one has the handler's timeout.
    daemon_threads = False
    block_on_close = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class LoopbackHandler(BaseHTTPRequestHandler):
    """The request handler a stand-in subclasses; `simulator` is the stand-in that runs it."""

    simulator: "LoopbackServer"
    timeout = 10  # a client that stops sending mid-request does not hold a thread for ever
    # HTTP/1.0: one request a connection, so no handler thread is left waiting for the next one.
    protocol_version = "HTTP/1.0"

    def _send(self, status: int, content_type: str, body: bytes, headers: dict | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timed out) before the answer: nothing to tell it

    def log_message(self, format: str, *args) -> None:
        if self.simulator.verbose:
            super().log_message(format, *args)


class LoopbackServer:
    """A stand-in served on http://host:port in a daemon thread; `start`/`stop` or `with`.

    A subclass sets `handler` (its LoopbackHandler subclass), `name` (naming the thread) and `path`
    (appended to `root` to make `url`).
    """

    handler: type[LoopbackHandler]
    name: str
    path: str = ""
    delay: float = 0  # seconds a request is held (see wait_delay)
    verbose: bool = False  # log every request

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def root(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        return self.root + self.path

    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError("the stand-in is already running")
        self._stopping.clear()
        handler = type(f"{type(self).__name__}Handler", (self.handler,), {"simulator": self})
        server_class = _Server6 if ":" in self.host else _Server
        self._server = server_class((self.host, self.port), handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"{self.name}-simulator:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and wait for every handler thread (a delayed one is woken up, not waited out)."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()  # joins the handler threads
        self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def wait_delay(self) -> bool:
        """Hold the calling request `delay` seconds. True when stop() cut the wait short: the handler then
        closes the connection without an answer."""
        return bool(self.delay) and self._stopping.wait(self.delay)

    def run(self, greeting: Callable[[], str], farewell: str) -> None:
        """Serve until Ctrl-C or SIGTERM: print `greeting()` once started, `farewell` once stopped."""
        # honcho and docker stop a process with SIGTERM; treat it as Ctrl-C.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        with self:
            print(greeting(), flush=True)
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                pass
        print(farewell, flush=True)
