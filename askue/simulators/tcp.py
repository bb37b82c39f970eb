"""The raw-TCP counterpart of `integrations.standin.LoopbackServer` (which serves HTTP): a server in a
thread of its own with the same start/stop/`with`/run shape, for protocols that are bytes on a socket.

A subclass sets `handler` (a `TcpHandler` subclass, one instance per connection) and `name`. Test
controls shared by every simulator: `drop_after(n)` closes each connection once n bytes were sent on it.
"""
import signal
import socket
import socketserver
import threading
from collections.abc import Callable
from typing import Self


class _Server(socketserver.ThreadingTCPServer):
    # Handler threads are joined by server_close(); stop() first shuts their sockets down so none waits.
    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True


class TcpHandler(socketserver.BaseRequestHandler):
    """One connection. `simulator` is the server object that runs it; `send` honours `drop_after`."""

    simulator: "TcpSimulator"
    idle_timeout = 10.0  # a client that goes quiet does not hold a thread for ever

    def setup(self) -> None:
        self.sent = 0
        self.dropped = False
        self.request.settimeout(self.idle_timeout)
        self.simulator._opened(self.request)

    def finish(self) -> None:
        self.simulator._closed(self.request)

    def recv(self, size: int = 512, timeout: float | None = None) -> bytes:
        """Up to `size` bytes; b"" when the peer closed, went idle, or the simulator stops."""
        self.request.settimeout(self.idle_timeout if timeout is None else timeout)
        try:
            return self.request.recv(size)
        except (TimeoutError, OSError):
            return b""

    def send(self, data: bytes) -> bool:
        """Send `data`, or only its first bytes and close if `drop_after` says so; False once dropped."""
        limit = self.simulator.dropping_after
        if limit is not None and self.sent + len(data) > limit:
            data = data[:max(limit - self.sent, 0)]
            self.dropped = True
        try:
            self.request.sendall(data)
        except OSError:
            return False
        self.sent += len(data)
        if self.dropped:
            self.request.shutdown(socket.SHUT_RDWR)
            return False
        return True


class TcpSimulator:
    """A TCP server on host:port (port 0: any free one, read `port` after start) in a daemon thread."""

    handler: type[TcpHandler]
    name: str

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.host, self.port = host, port
        self.dropping_after: int | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()

    def drop_after(self, n_bytes: int | None) -> None:
        """Close every connection after it carried `n_bytes` of answers (None: never)."""
        self.dropping_after = n_bytes

    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError("the simulator is already running")
        handler = type(f"{type(self).__name__}Handler", (self.handler,), {"simulator": self})
        self._server = _Server((self.host, self.port), handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"{self.name}-simulator:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, cut the open connections and wait for every handler thread."""
        if self._server is None:
            return
        self._server.shutdown()
        with self._lock:
            for connection in self._connections:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self._server.server_close()  # joins the handler threads
        self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _opened(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)

    def _closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)


def run_until_stopped(simulators: list[TcpSimulator], greeting: Callable[[], str], farewell: str) -> None:
    """Serve until Ctrl-C or SIGTERM: print `greeting()` once all started, `farewell` once all stopped."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    started = []
    try:
        for simulator in simulators:
            started.append(simulator.start())
        print(greeting(), flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        for simulator in started:
            simulator.stop()
    print(farewell, flush=True)
