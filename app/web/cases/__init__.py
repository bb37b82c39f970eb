"""Applications for the applicant: filing a case, following it, and answering what it asks."""
import io

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user, login_required

from app.policy import require
from app.services import accounts, applications, cases, file_store
from app.services.errors import ServiceError
from app.web import case_forms
from app.web.forms import show_error
from workflows import definitions, engine

bp = Blueprint("cases", __name__, url_prefix="/cases")


@bp.get("/")
@require("cabinet.use")
def my_cases():
    return render_template("cases/list.html", cases=cases.cases_of(current_user))


@bp.get("/new")
@require("cabinet.use")
def new():
    processes = [definitions.latest_version(key) for key in sorted(definitions.versions())]
    locale = str(get_locale())
    guides = {p.key: g.text(locale) for p in processes if p is not None
              for g in [applications.guide(p.key)] if g is not None}
    return render_template("cases/new.html", processes=[p for p in processes if p is not None], guides=guides)


def _process(key):
    definition = definitions.latest_version(key)
    if definition is None:
        abort(404)
    return definition, definitions.specs(definition.id, definition.sha256)


@bp.get("/new/<key>")
@require("cabinet.use")
def guide(key):
    """What the process is, its steps and the documents to have ready; then the form."""
    definition, _parsed = _process(key)
    found = applications.guide(key)
    return render_template("cases/guide.html", definition=definition,
                           guide=found.text(str(get_locale())) if found else None,
                           draft=applications.draft_of(current_user, key))


@bp.route("/new/<key>/form", methods=["GET", "POST"])
@require("cabinet.use")
def file(key):
    definition, parsed = _process(key)
    draft = applications.draft_of(current_user, key)
    linked = accounts.accounts_of(current_user) if parsed.applicant_account else []
    spec, form = None, None
    if parsed.start_form:
        spec, form = case_forms.build(parsed.start_form, draft_values=draft.values if draft else None)
    if request.method == "POST" and (form is None or form.validate_on_submit()):
        account = next((a for a, _ in linked if str(a.id) == request.form.get("account_id")), None)
        try:
            applications.save_draft(current_user, key, spec, spec.values(form) if spec else {}, account=account)
        except ServiceError as error:
            show_error(form, error)
        else:
            return redirect(url_for("cases.check", key=key))
    chosen = request.form.get("account_id") or (str(draft.account_id) if draft and draft.account_id else None)
    return render_template("cases/file.html", definition=definition, spec=spec, form=form, accounts=linked,
                           chosen_account=chosen, kept_files=_kept_files(spec, draft))


def _kept_files(spec, draft) -> dict:
    if not spec or not draft:
        return {}
    return {name: draft.values[name]["filename"] for name in applications.file_fields(spec)
            if isinstance(draft.values.get(name), dict)}


@bp.route("/new/<key>/check", methods=["GET", "POST"])
@require("cabinet.use")
def check(key):
    """Check your answers, then submit: the case starts only from here."""
    definition, parsed = _process(key)
    draft = applications.draft_of(current_user, key)
    if draft is None:
        return redirect(url_for("cases.file", key=key))
    if request.method == "POST":
        try:
            case = applications.submit(current_user, key)
        except ServiceError as error:
            flash(str(error.message), "danger")
        else:
            return redirect(url_for("cases.filed", number=case.number))
    spec = case_forms.definition(parsed.start_form) if parsed.start_form else None
    answers = applications.summary(spec, draft.values, str(get_locale())) if spec else []
    return render_template("cases/check.html", definition=definition, draft=draft, answers=answers)


@bp.post("/new/<key>/discard")
@require("cabinet.use")
def discard(key):
    applications.discard(current_user, key)
    flash(_("The unfinished application is deleted."), "info")
    return redirect(url_for("cases.guide", key=key))


@bp.get("/<number>/filed")
@login_required
def filed(number):
    """The confirmation: the case number, what happens next and where to follow it."""
    case = cases.case_for(current_user, number)
    return render_template("cases/filed.html", case=case, tasks=cases.open_tasks(case))


@bp.route("/<number>", methods=["GET", "POST"])
@login_required
def show(number):
    case = cases.case_for(current_user, number)
    forms = {}
    for task in cases.open_tasks(case):
        if task.actor == "applicant" and task.form_key:
            posted = request.method == "POST" and request.form.get("task_id") == str(task.id)
            data = lambda task=task: engine.task_data(case, task)  # noqa: E731 — read only if the form needs it
            forms[task.id] = case_forms.build(task.form_key, task_data=data)
            spec, form = forms[task.id]
            if posted and form.validate_on_submit():
                try:
                    cases.complete(current_user, task.id, spec.values(form))
                except ServiceError as error:
                    show_error(form, error)
                else:
                    flash(_("Thank you, your answer is received."), "success")
                    return redirect(url_for("cases.show", number=case.number))
    from app.services import payments
    from app.web.payments import PROVIDER_NAMES, with_payment_forms

    invoice = payments.invoice_of(case) if case.applicant_id == current_user.id and payments.providers() else None
    page = render_template("cases/show.html", case=case, timeline=cases.timeline(case), invoice=invoice,
                           providers=list(payments.providers()) if invoice else [], provider_names=PROVIDER_NAMES,
                           documents=cases.documents(case, current_user), tasks=cases.open_tasks(case), forms=forms)
    return with_payment_forms(make_response(page)) if invoice else page


@bp.get("/<number>/documents/<int:document_id>")
@login_required
def document(number, document_id):
    case = cases.case_for(current_user, number)
    doc = cases.document_for(current_user, case, document_id)
    content = file_store.open_bytes(doc.sha256)
    # send_file writes a non-ASCII name (case numbers are Cyrillic) as RFC 5987 filename*.
    return send_file(io.BytesIO(content), mimetype=doc.content_type, download_name=doc.filename,
                     as_attachment=doc.content_type != "application/pdf")


@bp.post("/<number>/messages")
@login_required
def message(number):
    case = cases.case_for(current_user, number)
    upload = request.files.get("attachment")
    attachment = (upload.filename, upload.read()) if upload and upload.filename else None
    try:
        cases.post_message(current_user, case, request.form.get("text", ""), attachment)
    except ServiceError as error:
        flash(str(error.message), "danger")
    else:
        flash(_("The message is sent."), "success")
    back = request.form.get("back") or ""
    if back.startswith("/tasks/"):
        return redirect(back)
    return redirect(url_for("cases.show", number=case.number))


@bp.get("/<number>/status")
@login_required
def status(number):
    """The status line alone, polled by the case page (htmx) so a change shows without a reload."""
    case = cases.case_for(current_user, number)
    return render_template("cases/_status.html", case=case)
