"""Test runs of a process: the analyst tries the draft on sample data, path by path, without a case.

The page shows the diagram with the path taken and what waits now, the start form or the current
task's form (the same forms real cases show), buttons for the waiting timers and messages, the data
after each step and the log. Every action is a plain form post that comes back to the run's page.
"""
import json
from datetime import datetime

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import CombinedMultiDict

from app.policy import require
from app.services import processes
from app.services.errors import InvalidInput, NotFound
from app.web import case_forms
from app.web.processes import bp
from workflows import dry_run


@bp.get("/<key>/test-run")
@require("processes.edit")
def test_run(key):
    """A new test run: the diagram and the start form."""
    draft = processes.draft(key)
    return _page(key, draft.xml, draft=draft, latest=dry_run.latest_of(current_user, key))


@bp.post("/<key>/test-runs")
@require("processes.edit")
def test_run_start(key):
    draft = processes.draft(key)
    try:
        run = dry_run.start(draft.xml, _posted(), current_user)
    except dry_run.InvalidValues as error:
        return _page(key, draft.xml, draft=draft, start_form=(error.definition, error.form))
    except InvalidInput as error:  # the diagram itself cannot run
        return _page(key, draft.xml, draft=draft, problem=str(error.message))
    return redirect(url_for("processes.test_run_show", key=key, run_id=run.id))


@bp.get("/<key>/test-runs/<run_id>")
@require("processes.edit")
def test_run_show(key, run_id):
    run = dry_run.find(run_id, key)
    return _page(key, run.xml, run=run, chosen=request.args.get("task"))


@bp.post("/<key>/test-runs/<run_id>/tasks/<task_id>")
@require("processes.edit")
def test_run_complete(key, run_id, task_id):
    run = dry_run.get(run_id, current_user, key)
    try:
        dry_run.complete(run, task_id, _posted())
    except dry_run.InvalidValues as error:
        return _page(key, run.xml, run=run, chosen=task_id, task_form=(error.definition, error.form))
    except InvalidInput as error:  # the diagram names a form that does not exist
        return _page(key, run.xml, run=run, chosen=task_id, problem=str(error.message))
    return _back(key, run_id)


@bp.post("/<key>/test-runs/<run_id>/timers/<task_id>")
@require("processes.edit")
def test_run_timer(key, run_id, task_id):
    run = dry_run.get(run_id, current_user, key)
    dry_run.fire_timer(run, task_id)
    return _back(key, run_id)


@bp.post("/<key>/test-runs/<run_id>/messages")
@require("processes.edit")
def test_run_message(key, run_id):
    run = dry_run.get(run_id, current_user, key)
    name = request.form.get("message", "")
    typed = request.form.get("payload", "")
    try:
        dry_run.send_message(run, name, _payload(typed))
    except InvalidInput as error:
        return _page(key, run.xml, run=run, message_error={"name": name, "payload": typed,
                                                          "error": str(error.message)})
    return _back(key, run_id)


def _back(key, run_id):
    return redirect(url_for("processes.test_run_show", key=key, run_id=run_id))


def _posted():
    """The posted fields with the chosen files, as a real task page reads them."""
    return CombinedMultiDict([request.files, request.form])


def _payload(typed: str) -> dict:
    if not typed.strip():
        return {}
    try:
        value = json.loads(typed)
    except ValueError:
        raise InvalidInput(_("The message's data is not valid JSON."), field="payload") from None
    if not isinstance(value, dict):
        raise InvalidInput(_("The message's data must be a JSON object."), field="payload")
    return value


# --- the page ---------------------------------------------------------------------------------------

def _page(key, xml, run=None, draft=None, latest=None, chosen=None, start_form=None, task_form=None,
          message_error=None, problem=None):
    process = processes.latest(key)
    owner = run is None or run.owned_by(current_user)
    form_spec, form, current, start_key = None, None, None, None
    if run is None:
        start_key = _start_form(xml)
        if start_form is not None:
            form_spec, form = start_form
        elif start_key:
            form_spec, form = _built(start_key)
    elif owner and not run.ended:
        current = run.task(chosen) if chosen else None
        current = current or (run.ready[0] if run.ready else None)
        if current is not None and task_form is not None and chosen == current.id:
            form_spec, form = task_form
        elif current is not None and current.form_key:
            form_spec, form = _built(current.form_key, task_data=run.data)
    names = run.names if run is not None else _names(xml)
    diagram = {
        "xml": xml,
        "taken": (run.path + run.flows + run.last.get("current_flows", [])) if run else [],
        "current": [t.element for t in run.ready] + [t.element for t in run.timers]
                   + [e for m in run.messages for e in m.elements] if run else [],
        "ended": run.ends if run else [],
        "failed": [run.error["element"]] if run and run.error and run.error.get("element") else [],
    }
    return render_template(
        "processes/test_run.html", process=process, key=key, run=run, draft=draft, latest=latest, owner=owner,
        names=names, spec=form_spec, form=form, current=current, start_key=start_key, message_error=message_error,
        problem=problem,
        steps=_steps(run, names) if run else [], log=_log(run) if run else [], diagram=diagram,
        dues={t.id: moment for t in run.timers if (moment := _moment(t.due))} if run else {})


def _built(form_key: str, **options):
    """The form as real cases show it; none when the diagram names a form that does not exist (the
    page says so where the form would be)."""
    try:
        return case_forms.build(form_key, **options)
    except NotFound:
        return None, None


def _start_form(xml: str) -> str | None:
    try:
        return dry_run.parse(xml).start_form
    except InvalidInput:
        return None


def _names(xml: str) -> dict[str, str]:
    try:
        return dry_run.names(xml)
    except InvalidInput:
        return {}


def _title(step: dict) -> str:
    name = step.get("label") or step.get("element") or ""
    if step["kind"] == "task":
        return _("Task “%(name)s” completed", name=name)
    if step["kind"] == "timer":
        return _("Timer “%(name)s” fired", name=name)
    if step["kind"] == "message":
        return _("Message “%(name)s” received", name=name)
    return _("Started")


def _steps(run, names: dict) -> list[dict]:
    shown = []
    for number, step in enumerate(run.steps, start=1):
        shown.append({"number": number, "title": _title(step), "at": _moment(step.get("at")),
                      "path": [names.get(e, e) for e in step.get("path", [])],
                      "values": _rows(step.get("values") or {}), "data": _rows(step.get("data") or {}),
                      "error": step.get("error"), "ended": step.get("ended"),
                      "end_event": names.get(step.get("end_event"), step.get("end_event"))})
    return shown


def _moment(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _rows(data: dict) -> list[tuple[str, str]]:
    return [(name, _shown(value)) for name, value in sorted(data.items())]


def _shown(value) -> str:
    if value is None:
        return "—"
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, indent=1) if value else ("{}" if isinstance(value, dict) else "[]")
    return str(value)


def _log(run) -> list[dict]:
    return [{"step": entry["step"] + 1, "level": entry.get("level", "info"), "element": entry.get("element"),
             "text": dry_run.describe(entry)} for entry in run.log]
