"""A stand-in of the state system's GIS TP service on loopback, for tests and the demo setup.

It speaks gis_tp.wsdl as the real adapter must: a StageSubmission that does not satisfy the schema is
rejected (code SCHEMA, with the schema's own message and line), a later stage is accepted only with the
external id the application stage was acknowledged with (else UNKNOWN_APPLICATION), and everything
else is acknowledged. The same registration number always gets the same external id, so a retried
application (its first acknowledgement lost on the way) is acknowledged again rather than duplicated.

Knobs for testing the portal's retries: `failures` makes the first N schema-valid submissions answer
HTTP 500 (a request the schema rejects is answered at once and not counted), and `delay` holds every
POST that many seconds before handling it, to provoke the client's time-out.

Only the standard library and lxml: it runs wherever the portal runs.

    python -m integrations.gis_tp.simulator --port 8790
"""
import argparse
import threading
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from lxml import etree

from integrations.standin import LoopbackHandler, LoopbackServer

NAMESPACE = "urn:gridcase:gis-tp:1"
WSDL_PATH = Path(__file__).with_name("gis_tp.wsdl")
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP_NS = "http://schemas.xmlsoap.org/wsdl/soap/"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
PATH = "/gis-tp"
MAX_REQUEST_BYTES = 1024 * 1024  # a submission is a few kilobytes
SCHEMA_ERRORS_SHOWN = 5


def _parser() -> etree.XMLParser:
    """No DTD, no entities, no network: whatever arrives is data. A parser is not shared between threads."""
    return etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False)


def _tag(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def load_schema(wsdl_path: Path = WSDL_PATH) -> etree.XMLSchema:
    """The XML Schema embedded in the WSDL's <types>, compiled on its own."""
    wsdl = etree.parse(str(wsdl_path), _parser())
    schema = wsdl.find(f"{{{WSDL_NS}}}types/{{{XSD_NS}}}schema")
    if schema is None:
        raise ValueError(f"{wsdl_path} has no XML Schema in its <types>")
    # Serialising the element carries the namespace declarations it inherits from <definitions>.
    return etree.XMLSchema(etree.fromstring(etree.tostring(schema)))


class _Handler(LoopbackHandler):
    simulator: "GisTpSimulator"
    server_version = "GisTpSimulator/1"

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path == PATH and parts.query.lower() == "wsdl":
            self._send(200, "text/xml; charset=utf-8", self.simulator.wsdl())
        else:
            self._send(404, "text/plain; charset=utf-8", f"GIS TP stand-in: POST SOAP to {PATH}, "
                                                         f"GET {PATH}?wsdl for the contract\n".encode())

    def do_POST(self) -> None:
        simulator = self.simulator
        if urlsplit(self.path).path != PATH:
            self._send(404, "text/plain; charset=utf-8", f"not found; the service is at {PATH}\n".encode())
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._send(411, "text/plain; charset=utf-8", b"Content-Length required\n")
            return
        if length < 0 or length > MAX_REQUEST_BYTES:
            self._send(413, "text/plain; charset=utf-8", b"request too large\n")
            return
        raw = self.rfile.read(length)
        with simulator._lock:
            simulator.request_count += 1
        if simulator.wait_delay():
            return  # stopped while holding the request: close without an answer
        self._send(*simulator.answer(raw))


class GisTpSimulator(LoopbackServer):
    """The service on http://host:port/gis-tp in a daemon thread; `received` lists what it accepted.

    Each entry of `received` is {"registration_number", "stage", "external_id", "xml"}, "xml" being the
    whole request as it came (text). `request_count` counts every POST, whatever its fate.
    """

    handler = _Handler
    name = "gis-tp"
    path = PATH

    def __init__(self, host: str = "127.0.0.1", port: int = 0, failures: int = 0, delay: float = 0,
                 verbose: bool = False):
        super().__init__(host, port)
        self.failures = failures  # left to answer with HTTP 500
        self.delay = delay
        self.verbose = verbose
        self.received: list[dict] = []
        self.request_count = 0
        self._schema = load_schema()
        self._wsdl = WSDL_PATH.read_bytes()
        self._ids: dict[str, str] = {}  # registration number -> external id
        self._owners: dict[str, str] = {}  # external id -> registration number
        # Handlers run in threads of their own; one lock keeps the counters, the ids and the schema's
        # error log (shared by every validation) consistent.
        self._lock = threading.Lock()

    # ---- answering -------------------------------------------------------------------------------------

    def answer(self, raw: bytes) -> tuple[int, str, bytes]:
        """(HTTP status, content type, body) for one POSTed request."""
        try:
            envelope = etree.fromstring(raw, _parser())
        except etree.XMLSyntaxError as exc:
            return _client_fault("MALFORMED", f"the request is not XML: {exc}")
        body = envelope.find(f"{{{SOAP_ENV}}}Body")
        if envelope.tag != f"{{{SOAP_ENV}}}Envelope" or body is None:
            return _client_fault("MALFORMED", "the request is not a SOAP 1.1 envelope with a Body")
        elements = [child for child in body if isinstance(child.tag, str)]  # comments are no elements
        if len(elements) != 1 or elements[0].tag != _tag("StageSubmission"):
            found = ", ".join(etree.QName(child).text for child in elements) or "nothing"
            return _client_fault("SCHEMA", f"the Body must hold one {{{NAMESPACE}}}StageSubmission, not {found}")
        submission = elements[0]
        with self._lock:
            if not self._schema.validate(submission):
                errors = [f"line {e.line}: {e.message}" for e in self._schema.error_log][:SCHEMA_ERRORS_SHOWN]
                return _client_fault("SCHEMA", "; ".join(errors))
            if self.failures > 0:
                self.failures -= 1
                return 500, "text/plain; charset=utf-8", b"simulated failure of the GIS TP service\n"
            return self._accept(submission, raw, envelope.getroottree().docinfo.encoding)

    def _accept(self, submission: etree._Element, raw: bytes, encoding: str | None) -> tuple[int, str, bytes]:
        registration_number = submission.findtext(_tag("registrationNumber"))
        stage = submission.findtext(_tag("stage"))
        external_id = submission.findtext(_tag("externalId"))
        known = self._ids.get(registration_number)
        if stage == "application":
            if external_id is not None and external_id != known:
                return _client_fault("UNKNOWN_APPLICATION", f"externalId {external_id} was not given to "
                                                            f"application {registration_number}")
            if known is None:
                known = f"GIS-TP-{len(self._ids) + 1:06d}"
                self._ids[registration_number] = known
                self._owners[known] = registration_number
            external_id = known
        elif external_id is None:
            return _client_fault("UNKNOWN_APPLICATION", f"stage {stage} of {registration_number} needs the "
                                                        "externalId its application was acknowledged with")
        elif self._owners.get(external_id) != registration_number:
            return _client_fault("UNKNOWN_APPLICATION",
                                 f"no application {registration_number} with externalId {external_id}")
        self.received.append({
            "registration_number": registration_number,
            "stage": stage,
            "external_id": external_id,
            "xml": raw.decode(encoding or "utf-8", errors="replace"),
        })
        return _acknowledgement(external_id, stage)

    def wsdl(self) -> bytes:
        """The WSDL with this simulator's own address in place of the placeholder."""
        wsdl = etree.fromstring(self._wsdl, _parser())
        for address in wsdl.iter(f"{{{WSDL_SOAP_NS}}}address"):
            address.set("location", self.url)
        return etree.tostring(wsdl, xml_declaration=True, encoding="UTF-8")


# ---- answers -------------------------------------------------------------------------------------------

def _envelope() -> tuple[etree._Element, etree._Element]:
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    return envelope, etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")


def _serialise(envelope: etree._Element) -> bytes:
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def _acknowledgement(external_id: str, stage: str) -> tuple[int, str, bytes]:
    envelope, body = _envelope()
    ack = etree.SubElement(body, _tag("Acknowledgement"), nsmap={None: NAMESPACE})
    etree.SubElement(ack, _tag("externalId")).text = external_id
    etree.SubElement(ack, _tag("receivedAt")).text = datetime.now(timezone.utc).isoformat(timespec="seconds")
    etree.SubElement(ack, _tag("stage")).text = stage
    return 200, "text/xml; charset=utf-8", _serialise(envelope)


def _client_fault(code: str, reason: str) -> tuple[int, str, bytes]:
    """A soap:Client fault with a Rejection in its detail; SOAP 1.1 sends every fault as HTTP 500."""
    envelope, body = _envelope()
    fault = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
    # faultcode, faultstring and detail are unqualified in SOAP 1.1.
    etree.SubElement(fault, "faultcode").text = "soap:Client"
    etree.SubElement(fault, "faultstring").text = reason
    detail = etree.SubElement(fault, "detail")
    rejection = etree.SubElement(detail, _tag("Rejection"), nsmap={None: NAMESPACE})
    etree.SubElement(rejection, _tag("code")).text = code
    etree.SubElement(rejection, _tag("reason")).text = reason
    return 500, "text/xml; charset=utf-8", _serialise(envelope)


# ---- running it by hand --------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Stand-in of the state GIS TP service (SOAP, gis_tp.wsdl).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--failures", type=int, default=0,
                        help="answer the first N valid submissions with HTTP 500")
    parser.add_argument("--delay", type=float, default=0, help="hold every POST this many seconds")
    parser.add_argument("--quiet", action="store_true", help="do not log requests")
    args = parser.parse_args(argv)
    simulator = GisTpSimulator(args.host, args.port, failures=args.failures, delay=args.delay,
                               verbose=not args.quiet)
    simulator.run(lambda: f"GIS TP stand-in at {simulator.url} (WSDL: {simulator.url}?wsdl); Ctrl-C stops it",
                  "GIS TP stand-in stopped")


if __name__ == "__main__":
    main()
