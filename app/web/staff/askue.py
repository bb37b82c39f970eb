"""Staff: the ASKUE operator's pages — sources and their polling, meters that have gone silent, the
meter event log, and taking in 80020/CSV files."""
import logging

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileRequired, MultipleFileField
from kombu.exceptions import OperationalError
from sqlalchemy import func, or_, select, update
from wtforms import StringField
from wtforms.validators import ValidationError

from app.extensions import db
from app.models import Account, AskuePoint, AskueSource, ExchangeFile, Meter, MeterEventLog, Premises, User
from app.policy import require
from app.services import askue_exchange, askue_polling, audit
from app.tasks import askue as askue_tasks
from app.tasks import enqueue
from app.web.forms import Form
from app.web.staff import bp

log = logging.getLogger(__name__)

LIMIT = 200  # rows of silent meters and of events shown at once
FILES_SHOWN = 50
DEFAULT_HOURS, MIN_HOURS, MAX_HOURS = 24, 1, 720

CATEGORY_LABELS = {"meter": _l("Meter"), "line": _l("Communication line"), "validation": _l("Validation")}
KIND_LABELS = {
    "power_off": _l("Power off"), "power_on": _l("Power on"), "cover_opened": _l("Cover opened"),
    "magnetic_field": _l("Magnetic field"), "clock_set": _l("Clock set"),
    "silent": _l("No answer"), "bad_checksum": _l("Bad checksum"), "unexpected_answer": _l("Unexpected answer"),
    "access_denied": _l("Access denied"), "connection": _l("Connection error"),
    "counter_decreased": _l("Counter decreased"), "profile_mismatch": _l("Profile does not match the counters"),
    "negative_value": _l("Negative value"), "above_pmax": _l("Above the permitted power"),
    "clock_drift": _l("Meter clock drift"), "duplicate": _l("Duplicate"),
}


def _hours_in_range(form, field):
    try:
        hours = int((field.data or "").strip())
    except ValueError:
        hours = None
    if hours is None or not MIN_HOURS <= hours <= MAX_HOURS:
        raise ValidationError(_("Enter a whole number of hours from %(low)d to %(high)d.", low=MIN_HOURS,
                                high=MAX_HOURS))


class SilentForm(Form):
    """The GET form above the silent meters; a filter, so it carries no CSRF token."""

    class Meta:
        csrf = False

    hours = StringField(_l("Not heard from for more than, hours"), default=str(DEFAULT_HOURS),
                        validators=[_hours_in_range], render_kw={"inputmode": "numeric", "size": 4})


class UploadForm(Form):
    files = MultipleFileField(_l("Files (80020 XML or CSV)"), validators=[FileRequired(_l("Choose a file."))],
                              description=_l(
                                  "Several files may be chosen at once; each is applied whole or not at all."),
                              render_kw={"accept": ".xml,.csv,text/xml,application/xml,text/csv"})


@bp.get("/askue")
@require("askue.operate")
def askue():
    submitted = "hours" in request.args
    form = SilentForm(request.args if submitted else None)
    hours = DEFAULT_HOURS
    if submitted and form.validate():
        hours = int(form.hours.data.strip())
    sources = db.session.scalars(select(AskueSource).order_by(AskueSource.code)).all()
    points = dict(db.session.execute(select(AskuePoint.source_id, func.count()).group_by(AskuePoint.source_id)).all())
    silent = askue_polling.silent_points(hours) if not form.errors else []
    silent_by_source: dict[int | None, int] = {}
    for point in silent:
        silent_by_source[point.source_id] = silent_by_source.get(point.source_id, 0) + 1
    return render_template("staff/askue.html", form=form, hours=hours, sources=sources, points=points,
                           silent_by_source=silent_by_source, silent=_silent_rows(silent[:LIMIT]),
                           silent_total=len(silent), limit=LIMIT, unassigned=points.get(None, 0))


def _silent_rows(points: list[AskuePoint]) -> list[dict]:
    """The shown silent points with their meter, account and source, read in one query."""
    if not points:
        return []
    extra = {row.id: row for row in db.session.execute(
        select(AskuePoint.id, Meter.serial, Account.id.label("account_id"), Account.number,
               AskueSource.code.label("source_code"))
        .join(Meter, Meter.id == AskuePoint.meter_id).join(Premises, Premises.id == Meter.premises_id)
        .join(Account, Account.id == Premises.account_id)
        .outerjoin(AskueSource, AskueSource.id == AskuePoint.source_id)
        .where(AskuePoint.id.in_([p.id for p in points])))}
    return [{"point": p, "serial": extra[p.id].serial, "account_id": extra[p.id].account_id,
             "account": extra[p.id].number, "source_code": extra[p.id].source_code}
            for p in points if p.id in extra]


@bp.post("/askue/sources/<int:source_id>/poll")
@require("askue.operate")
def askue_poll(source_id):
    source = db.get_or_404(AskueSource, source_id)
    code, previous = source.code, source.polled_at
    back = redirect(url_for("staff.askue"))
    if not source.enabled:
        flash(_("The source %(code)s is switched off: it is not polled.", code=code), "warning")
        return back
    if not askue_polling.claim(source.id, at_once=True):
        audit.record("askue.poll_requested", actor=current_user, obj=source, outcome="refused",
                     details={"reason": "busy"}, commit=True)
        source = db.session.get(AskueSource, source_id)
        flash(_("The source %(code)s was polled at %(at)s, less than a minute ago; wait for that poll.",
                code=code, at=_local(source.polled_at)), "warning")
        return back
    audit.record("askue.poll_requested", actor=current_user, obj=source)
    db.session.commit()
    try:
        enqueue(askue_tasks.poll_source, source_id)
    except OperationalError:
        log.exception("ASKUE source %s: the poll could not be queued", source_id)
        # Give the claim back, so that the regular schedule polls the source as if nothing happened.
        db.session.execute(update(AskueSource).where(AskueSource.id == source_id)
                           .values(polled_at=previous).execution_options(synchronize_session=False))
        db.session.commit()
        flash(_("The poll of %(code)s could not be queued: the task queue is unavailable. Try again later.",
                code=code), "danger")
        return back
    flash(_("The poll of %(code)s is queued; refresh the page in a minute to see its result.", code=code), "success")
    return back


def _local(moment) -> str:
    return format_datetime(moment, "short") if moment else "—"


@bp.get("/askue/events")
@require("askue.operate")
def askue_events():
    category = request.args.get("category", "")
    if category not in CATEGORY_LABELS:
        category = ""
    meter = request.args.get("meter", "").strip()
    stmt = (select(MeterEventLog, Meter.serial, AskuePoint.code, AskueSource.code)
            .join(Meter, Meter.id == MeterEventLog.meter_id)
            .outerjoin(AskuePoint, AskuePoint.meter_id == MeterEventLog.meter_id)
            .outerjoin(AskueSource, AskueSource.id == MeterEventLog.source_id))
    if category:
        stmt = stmt.where(MeterEventLog.category == category)
    if meter:
        stmt = stmt.where(or_(Meter.serial == meter, AskuePoint.code == meter))
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.execute(stmt.order_by(MeterEventLog.at.desc(), MeterEventLog.id.desc()).limit(LIMIT)).all()
    return render_template("staff/askue_events.html", rows=rows, total=total, limit=LIMIT, category=category,
                           meter=meter, categories=CATEGORY_LABELS, kinds=KIND_LABELS)


@bp.route("/askue/files", methods=["GET", "POST"])
@require("askue.operate")
def askue_files():
    form, results = UploadForm(), []
    if form.validate_on_submit():
        for upload in form.files.data:
            name = upload.filename or "upload"
            results.append((name, askue_exchange.import_file(upload.read(), name, actor=current_user)))
        refused = sum(1 for _name, result in results if not result.applied)
        if refused:
            flash(_("Files refused: %(n)d of %(total)d. A refused file changes nothing; fix it and upload it again.",
                    n=refused, total=len(results)), "danger")
        else:
            flash(_("Files taken: %(total)d.", total=len(results)), "success")
    recent = db.session.execute(select(ExchangeFile, User.email).outerjoin(User, User.id == ExchangeFile.uploaded_by_id)
                                .order_by(ExchangeFile.id.desc()).limit(FILES_SHOWN)).all()
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    return render_template("staff/askue_files.html", form=form, results=results, recent=recent, shown=FILES_SHOWN,
                           max_mb=limit // (1024 * 1024) if limit else None)

