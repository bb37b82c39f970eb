"""The SOAP client that reports the stages of a technological-connection case to the state system.

`GisTpClient(endpoint).submit(submission)` sends one `StageSubmission` (see gis_tp.wsdl) and returns the
state system's acknowledgement. The submission is a dict of plain Python values with snake_case keys;
the schema in the WSDL is the contract, so values are not checked here a second time: the service
answers a bad value with a rejection that names it.

What goes wrong is told apart by what the caller should do next:
- `Rejected(code, reason)`: the service refused the data (a soap:Client fault); sending the same again
  will fail again, a person has to look;
- `Unavailable`: no answer on the data (HTTP 5xx, a soap:Server fault, no connection, a time-out or an
  answer that cannot be read); the submission was not accepted and a later try may be;
- `ValueError`: the dict itself is incomplete; raised before any request.

No Flask, no database: an endpoint URL in, plain values out.
"""
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import requests
import zeep
import zeep.exceptions

NAMESPACE = "urn:gridcase:gis-tp:1"
WSDL_PATH = Path(__file__).with_name("gis_tp.wsdl")
BINDING = f"{{{NAMESPACE}}}GisTpBinding"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"

STAGES = ("application", "conditions", "contract", "act")

# snake_case key of a submission -> element of StageSubmission, in the schema's order.
FIELDS = {
    "registration_number": "registrationNumber",
    "stage": "stage",
    "stage_date": "stageDate",
    "external_id": "externalId",
    "applicant": "applicant",
    "object": "object",
    "max_power_kw": "maxPowerKw",
    "existing_power_kw": "existingPowerKw",
    "voltage_kv": "voltageKv",
    "reliability_category": "reliabilityCategory",
    "status": "status",
    "document_number": "documentNumber",
    "fee": "fee",
    "connection_deadline": "connectionDeadline",
}
APPLICANT_FIELDS = {"kind": "kind", "name": "name", "inn": "inn"}
OBJECT_FIELDS = {"name": "name", "address": "address", "cadastral_number": "cadastralNumber"}
REQUIRED = ("registration_number", "stage", "stage_date", "applicant", "object", "max_power_kw",
            "voltage_kv", "reliability_category", "status")
APPLICANT_REQUIRED = ("kind", "name")
OBJECT_REQUIRED = ("name", "address")
DECIMALS = ("max_power_kw", "existing_power_kw", "voltage_kv", "fee")
DATES = ("stage_date", "connection_deadline")


class GisTpError(Exception):
    """Any failure of a submission; the subclasses say whether to try again."""


class Rejected(GisTpError):
    """The state system refused the submission: trying the same again is pointless."""

    def __init__(self, code: str, reason: str):
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason

    def __reduce__(self):
        # Pickled when a task queue carries the error; the default would call __init__ with the message alone.
        return type(self), (self.code, self.reason)


class Unavailable(GisTpError):
    """The submission was not accepted for a reason that may pass: try again later."""


class GisTpClient:
    def __init__(self, endpoint: str, timeout: float = 10, session: requests.Session | None = None):
        parts = urlsplit(endpoint or "")
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError(f"GIS_TP_URL must be an http:// or https:// URL, not {endpoint!r}")
        self.endpoint = endpoint
        self._own_session = session is None
        self._session = session or requests.Session()
        # The WSDL is a file of this package: loading it makes no request. `operation_timeout` is the
        # one that applies to the SOAP call itself (zeep's `timeout` covers only loading documents).
        transport = zeep.Transport(session=self._session, timeout=timeout, operation_timeout=timeout)
        client = zeep.Client(str(WSDL_PATH), transport=transport)
        # The WSDL's address is a placeholder; the configured endpoint always wins.
        self._service = client.create_service(BINDING, endpoint)

    def submit(self, submission: Mapping) -> dict:
        """Send one stage; return {"external_id", "received_at" (ISO 8601), "stage"} of the acknowledgement."""
        body = to_message(submission)
        try:
            answer = self._service.SubmitStage(**body)
        except zeep.exceptions.Fault as fault:
            raise _fault_error(fault) from fault
        except zeep.exceptions.ValidationError as exc:
            # zeep refuses to build a message without a required element: a caller's mistake, not the service's.
            raise ValueError(f"the submission cannot be sent: {exc}") from exc
        except zeep.exceptions.TransportError as exc:
            raise Unavailable(f"GIS TP answered HTTP {exc.status_code}: {_short(exc.message)}") from exc
        except zeep.exceptions.Error as exc:
            # An answer that is not the SOAP we expect (an HTML error page, a proxy's reply, ...).
            raise Unavailable(f"GIS TP sent an answer that cannot be read: {_short(str(exc))}") from exc
        except requests.Timeout as exc:
            raise Unavailable(f"GIS TP did not answer in time: {exc}") from exc
        except requests.RequestException as exc:
            raise Unavailable(f"GIS TP cannot be reached: {exc}") from exc
        received_at = answer.receivedAt
        return {
            "external_id": answer.externalId,
            "received_at": received_at.isoformat() if isinstance(received_at, datetime) else str(received_at),
            "stage": answer.stage,
        }

    def close(self) -> None:
        """Close the HTTP session if this client made it (a session passed in belongs to the caller)."""
        if self._own_session:
            self._session.close()

    def __enter__(self) -> "GisTpClient":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


# ---- building the message ------------------------------------------------------------------------------

def to_message(submission: Mapping) -> dict:
    """The keyword arguments of SubmitStage: element names, decimals and dates as their XML text.

    Raises ValueError for a missing required key or an unknown one (a misspelt optional key would
    otherwise be dropped without a word).
    """
    _check_keys(submission, FIELDS, REQUIRED, "")
    body = {}
    for key, element in FIELDS.items():
        value = submission.get(key)
        if value is None:
            continue
        if key == "applicant":
            value = _part(value, APPLICANT_FIELDS, APPLICANT_REQUIRED, "applicant.")
        elif key == "object":
            value = _part(value, OBJECT_FIELDS, OBJECT_REQUIRED, "object.")
        elif key in DECIMALS:
            value = decimal_text(key, value)
        elif key in DATES:
            value = date_text(value)
        body[element] = value
    return body


def _part(value, fields: Mapping[str, str], required: tuple[str, ...], prefix: str) -> dict:
    if not isinstance(value, Mapping):
        raise ValueError(f"{prefix.rstrip('.')} must be a mapping, not {type(value).__name__}")
    _check_keys(value, fields, required, prefix)
    return {element: value[key] for key, element in fields.items() if value.get(key) is not None}


def _check_keys(values: Mapping, fields: Mapping[str, str], required: tuple[str, ...], prefix: str) -> None:
    missing = [prefix + key for key in required if values.get(key) is None]
    if missing:
        raise ValueError(f"the submission misses required key{'s' if len(missing) > 1 else ''} "
                         f"{', '.join(missing)}")
    unknown = sorted(prefix + str(key) for key in values if key not in fields)
    if unknown:
        raise ValueError(f"the submission has unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}")


def decimal_text(key: str, value) -> str:
    """The exact decimal as xs:decimal text: never through a float, never in exponent notation."""
    if isinstance(value, (float, bool)):
        # A float has already lost the value a person typed (0.1 kW is not 0.1 in binary).
        raise TypeError(f"{key} must be a Decimal, an int or a string, not {type(value).__name__}")
    if isinstance(value, Decimal):
        return format(value, "f")  # Decimal("1E+2") -> "100", which xs:decimal accepts
    if isinstance(value, int):
        return str(value)
    return value  # a string goes as written; the schema judges it


def date_text(value) -> str:
    """xs:date text of a date (a datetime gives its own day) or an ISO string as written."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    return value


# ---- reading a fault -----------------------------------------------------------------------------------

def _fault_error(fault: zeep.exceptions.Fault) -> GisTpError:
    """Rejected for a soap:Client fault; Unavailable for soap:Server and anything unknown."""
    if _fault_kind(fault) != "Client":
        return Unavailable(f"GIS TP failed: {fault.message or fault.code or 'a fault without a message'}")
    detail = fault.detail if getattr(fault.detail, "tag", None) is not None else None
    rejection = detail.find(f"{{{NAMESPACE}}}Rejection") if detail is not None else None
    if rejection is None:
        return Rejected("UNSPECIFIED", fault.message or "rejected without a reason")
    code = (rejection.findtext(f"{{{NAMESPACE}}}code") or "").strip() or "UNSPECIFIED"
    reason = (rejection.findtext(f"{{{NAMESPACE}}}reason") or "").strip() or fault.message or ""
    return Rejected(code, reason)


def _fault_kind(fault: zeep.exceptions.Fault) -> str | None:
    """The local part of the faultcode ("Client", "Server"), its prefix checked where it can be.

    SOAP 1.1 allows dotted refinements ("Client.Authentication"); they keep their class.
    """
    code = (fault.code or "").strip()
    prefix, _, local = code.rpartition(":")
    detail = getattr(fault, "detail", None)
    fault_node = detail.getparent() if getattr(detail, "tag", None) is not None else None
    if prefix and fault_node is not None and fault_node.nsmap.get(prefix, SOAP_ENV) != SOAP_ENV:
        return None  # an application's own fault code, not one of SOAP's classes
    return local.split(".", 1)[0] or None


def _short(text: str | None, limit: int = 300) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit] + "…"
