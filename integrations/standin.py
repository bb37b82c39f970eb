"""What the loopback stand-ins of outside systems (GIS TP, YooKassa, T-Bank, Sber) share: an HTTP server
in a thread of its own that starts, stops (waking a held request rather than waiting it out) and runs by
hand until Ctrl-C or SIGTERM. Each stand-in adds only its protocol: a `LoopbackHandler` subclass, a name
and the path its URL points at. Only the standard library: it runs wherever the portal runs.
"""
import hashlib
import secrets
import signal
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal
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


def send_copies(send: Callable[[], int | None], times: int, at_once: bool, timeout: float,
                name: str) -> list[int | None]:
    """Call `send` `times` times, one after another or, with `at_once`, from as many threads released
    together (a provider's retries may overlap); returns each call's HTTP status."""
    results: list[int | None] = [None] * times
    if not at_once or times < 2:
        return [send() for _ in range(times)]
    barrier = threading.Barrier(times)

    def one(index: int) -> None:
        try:
            barrier.wait(timeout=timeout)
        except threading.BrokenBarrierError:
            pass
        results[index] = send()

    threads = [threading.Thread(target=one, args=(i,), name=f"{name}-{i}") for i in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


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


MOSCOW = timezone(timedelta(hours=3), "MSK")


class FiscalRegister:
    """The online cash register behind a payment stand-in: it registers a 54-ФЗ receipt for each payment
    (and refund) that carried receipt data, `delay` seconds after it, or only when `fiscalise_now()` is
    called if `enabled` is false, so a test can see the "not registered yet" state.

    A registered receipt gets a 16-digit ФН, a 16-digit РН ККТ (both fixed for the register), a ФД counting
    up, a shift with a number in shift counting up, a 10-digit ФПД and `registered_at`, the moment it was
    due, in Moscow time. `receipts(key)` gives the receipts of one payment, pending ones too, as dicts
    the stand-in turns into its own wire shape.
    """

    def __init__(self, delay: float = 0, enabled: bool = True, tz: timezone = MOSCOW):
        self.delay, self.enabled, self.tz = delay, enabled, tz
        self.fn = "9999" + "".join(secrets.choice("0123456789") for _ in range(12))
        self.ecr_registration = "000" + "".join(secrets.choice("0123456789") for _ in range(13))
        self.shift_number = secrets.randbelow(300) + 1
        self._number_in_shift = 0
        self._fd = 1000 + secrets.randbelow(9000)
        self._receipts: list[dict] = []
        self._lock = threading.RLock()

    def register(self, key: str, kind: str, amount: Decimal, reference: str | None = None) -> dict:
        """Queue the receipt of a payment (`kind` "payment") or of a refund ("refund"; `reference` is the
        refund's id) of `amount` roubles, for the payment `key`."""
        if kind not in ("payment", "refund"):
            raise ValueError(f"a receipt is a payment or a refund, not {kind!r}")
        now = datetime.now(self.tz)
        with self._lock:
            receipt = {"id": secrets.token_hex(16), "key": str(key), "kind": kind,
                       "amount": Decimal(amount).quantize(Decimal("0.01")), "reference": reference,
                       "created_at": now, "due": now + timedelta(seconds=self.delay) if self.enabled else None,
                       "status": "pending"}
            self._receipts.append(receipt)
            return dict(receipt)

    def fiscalise_now(self) -> None:
        """Register every pending receipt now, whatever `delay` and `enabled` say."""
        now = datetime.now(self.tz)
        with self._lock:
            for receipt in self._receipts:
                if receipt["status"] == "pending":
                    receipt["due"] = min(receipt["due"] or now, now)
            self._settle()

    def receipts(self, key: str) -> list[dict]:
        """The receipts of the payment `key`, oldest first: status "pending" or "registered" (with ФН, ФД,
        ФПД, РН ККТ, shift, number in shift and registered_at)."""
        with self._lock:
            self._settle()
            return [dict(receipt) for receipt in self._receipts if receipt["key"] == str(key)]

    def _settle(self) -> None:
        now = datetime.now(self.tz)
        for receipt in self._receipts:
            if receipt["status"] == "pending" and receipt["due"] is not None and receipt["due"] <= now:
                self._fd += 1
                self._number_in_shift += 1
                registered_at = receipt["due"].astimezone(self.tz)
                seed = f"{self.fn}|{self._fd}|{receipt['amount']}|{registered_at.isoformat()}".encode()
                fpd = 1_000_000_000 + int.from_bytes(hashlib.sha256(seed).digest()[:4], "big") % 3_000_000_000
                receipt.update(status="registered", fn=self.fn, fd=str(self._fd), fpd=str(fpd),
                               ecr_registration=self.ecr_registration, shift_number=str(self.shift_number),
                               number_in_shift=str(self._number_in_shift), registered_at=registered_at)
