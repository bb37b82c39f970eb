"""Service-task handlers: Python functions that BPMN service tasks call by name.

A handler takes the case and the SpiffWorkflow task (its data and its spec's properties) and returns
a JSON-serialisable dict, which the engine stores in the task's data under the operator's
`resultVariable`. It is named in the diagram as `<spiffworkflow:serviceTaskOperator id="name">`. Handlers that reach outside systems must not call them directly: they write an
outbox row in the same transaction and a Celery job delivers it (see workflows.outbox).
"""
from typing import Callable

REGISTRY: dict[str, Callable] = {}


def handler(name: str):
    def register(func: Callable) -> Callable:
        REGISTRY[name] = func
        return func

    return register


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
from workflows import documents_handler  # noqa: E402,F401
