"""Service-task handlers: Python functions that BPMN service tasks call by name.

A handler takes the case and the SpiffWorkflow task (its data and its spec's properties) and returns
a JSON-serialisable dict, which the engine stores in the task's data under the operator's
`resultVariable`. It is named in the diagram as `<spiffworkflow:serviceTaskOperator id="name">`. Handlers that reach outside systems must not call them directly: they write an
outbox row in the same transaction and a Celery job delivers it (see workflows.outbox).
"""
from dataclasses import dataclass
from typing import Callable

REGISTRY: dict[str, Callable] = {}
CHECKS: dict[str, Callable] = {}
# The BPMN messages GridCase delivers into cases by name (engine.correlate): `invoice_paid` from the
# payments side (app/services/payments.py). The answers post_webhook tasks wait for are named in the
# diagram itself (`replyMessage`), so they are not listed here.
MESSAGES: frozenset[str] = frozenset({"invoice_paid"})


@dataclass(frozen=True)
class CheckContext:
    """What a check sees: the case (None while an application is being filed), who files it, for
    which account, and the data the process holds so far."""

    case: object | None
    applicant_id: int | None
    account_id: int | None
    data: dict
    actor_id: int | None = None  # who completes the task (None while filing: the applicant)


def handler(name: str):
    def register(func: Callable) -> Callable:
        REGISTRY[name] = func
        return func

    return register


def check(name: str):
    """A check of a form's values against the database (a reading not lower than the last one, a
    meter that exists on the account), named by the `check` property of a user task or start event.
    It raises `InvalidInput` (with `field=` when it is about one field) to refuse the values; it may
    return a dict of values to add to the task data (what it looked up)."""

    def register(func: Callable) -> Callable:
        CHECKS[name] = func
        return func

    return register


def run_check(name: str, context: CheckContext, values: dict) -> dict:
    found = CHECKS.get(name)
    if found is None:
        raise LookupError(f"no check {name!r}")
    return found(context, values) or {}


@handler("noop")
def noop(case, task) -> dict:
    """Does nothing; for diagrams under construction and tests."""
    return {}


@handler("post_webhook")
def post_webhook(case, task) -> dict:
    """Send the case's data to the URL in the task's `webhook_url` property through the outbox;
    with a `replyMessage` property the process can wait for the answer as a message."""
    from workflows import outbox

    props = ((getattr(task.task_spec, "extensions", None) or {}).get("properties") or {})
    row = outbox.enqueue(case, "http.post", {"url": props.get("webhookUrl") or task.data.get("webhook_url"),
                                             "body": {"case": case.number, "data": _jsonable(task.data)}},
                         reply_message=props.get("replyMessage"))
    return {"outbox_id": row.id}


def _jsonable(data: dict) -> dict:
    import json

    return json.loads(json.dumps(data, default=str))


# Handlers in their own modules register themselves on import.
from workflows import account_handlers, complaint_handlers, documents_handler, gis_tp_delivery, metering_handlers, tp_handlers  # noqa: E402,F401
