"""Applications for the applicant: filing a case, following it, and answering what it asks."""
import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.policy import require
from app.services import accounts, cases, file_store
from app.services.errors import ServiceError
from app.web import case_forms
from app.web.forms import show_error
from workflows import definitions

bp = Blueprint("cases", __name__, url_prefix="/cases")


@bp.get("/")
@require("cabinet.use")
def my_cases():
    return render_template("cases/list.html", cases=cases.cases_of(current_user))


@bp.get("/new")
@require("cabinet.use")
def new():
    processes = [definitions.latest_version(key) for key in sorted(definitions.versions())]
    return render_template("cases/new.html", processes=[p for p in processes if p is not None])


@bp.route("/new/<key>", methods=["GET", "POST"])
@require("cabinet.use")
def file(key):
    definition = definitions.latest_version(key)
    if definition is None:
        abort(404)
    parsed = definitions.specs(definition.id, definition.sha256)
    spec, form = case_forms.build(parsed.start_form) if parsed.start_form else (None, None)
    linked = accounts.accounts_of(current_user)
    if request.method == "POST" and (form is None or form.validate_on_submit()):
        account = next((a for a, _ in linked if str(a.id) == request.form.get("account_id")), None)
        try:
            case = cases.start(current_user, key, spec.values(form) if spec else {}, account=account)
        except ServiceError as error:
            show_error(form, error)
        else:
            flash(_("Your application %(number)s is filed.", number=case.number), "success")
            return redirect(url_for("cases.show", number=case.number))
    return render_template("cases/file.html", definition=definition, spec=spec, form=form, accounts=linked)


@bp.route("/<number>", methods=["GET", "POST"])
@login_required
def show(number):
    case = cases.case_for(current_user, number)
    forms = {}
    for task in cases.open_tasks(case):
        if task.actor == "applicant" and task.form_key:
            posted = request.method == "POST" and request.form.get("task_id") == str(task.id)
            forms[task.id] = case_forms.build(task.form_key, None) if not posted else case_forms.build(task.form_key)
            spec, form = forms[task.id]
            if posted and form.validate_on_submit():
                try:
                    cases.complete(current_user, task.id, spec.values(form))
                except ServiceError as error:
                    show_error(form, error)
                else:
                    flash(_("Thank you, your answer is received."), "success")
                    return redirect(url_for("cases.show", number=case.number))
    return render_template("cases/show.html", case=case, timeline=cases.timeline(case),
                           documents=cases.documents(case, current_user), tasks=cases.open_tasks(case), forms=forms)


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
