"""Moving running cases from one version of a process to the next: the preview and the batch job."""
import logging

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from kombu.exceptions import OperationalError

from app.extensions import db
from app.models import ProcessMigration
from app.models.types import utcnow
from app.policy import require
from app.services import process_migration, processes
from app.services.errors import InvalidInput
from app.tasks import enqueue
from app.tasks import processes as process_tasks
from app.web.processes import bp

log = logging.getLogger(__name__)

SHOWN = 300  # cases listed per table; the counts above them are always complete


@bp.get("/<key>/migrate")
@require("processes.edit")
def migration(key):
    versions = processes.versions(key)  # newest first; NotFound for an unknown process
    numbers = [v.definition.version for v in versions]
    target = _version(request.args.get("to"), "to", default=numbers[0])
    busy = [v.definition.version for v in versions if v.running and v.definition.version != target]
    source = _version(request.args.get("from"), "from",
                      default=busy[0] if busy else (numbers[1] if len(numbers) > 1 else numbers[0]))
    preview = None
    if source != target:
        preview = process_migration.preview(key, source, target)
    return render_template("processes/migrate.html", key=key, name=versions[0].definition.name,
                           versions=versions, source=source, target=target, preview=preview, shown=SHOWN,
                           history=process_migration.history(key))


@bp.post("/<key>/migrate")
@require("processes.edit")
def start_migration(key):
    source = _version(request.form.get("from"), "from")
    target = _version(request.form.get("to"), "to")
    job = process_migration.schedule(key, source, target, current_user)
    back = redirect(url_for("processes.migration", key=key, **{"from": source, "to": target}))
    try:
        enqueue(process_tasks.migrate, job.id)
    except OperationalError:
        log.exception("process migration %s could not be queued", job.id)
        job = db.session.get(ProcessMigration, job.id)
        job.status, job.finished_at = "failed", utcnow()
        job.errors = [{"case_id": None, "number": None, "reasons": [_("the task queue is unavailable")]}]
        db.session.commit()
        flash(_("The move could not be queued: the task queue is unavailable. Try again later."), "danger")
        return back
    flash(_("The move of the cases from version %(source)s to version %(target)s is queued; its progress is "
            "shown below.", source=source, target=target), "success")
    return back


def _version(value, name: str, default: int | None = None) -> int:
    if value in (None, "") and default is not None:
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(_("Choose a version."), field=name) from None
    if number < 1:
        raise InvalidInput(_("Choose a version."), field=name)
    return number
