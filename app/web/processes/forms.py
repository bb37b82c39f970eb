"""The form editor: task forms (bpmn/forms/*.json seeds them) edited with a live preview, and deployed."""
from flask import Response, current_app, jsonify, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.policy import require
from app.services import process_forms
from app.services.errors import InvalidInput
from app.web.processes import bp, json_body
from workflows.forms import load_definition

NEW_FORM = {"key": "", "title": {"ru": "", "en": ""},
            "fields": [{"name": "comment", "type": "textarea", "label": {"ru": "Комментарий", "en": "Comment"}}]}


@bp.get("/forms/")
@require("processes.edit")
def form_list():
    return render_template("processes/form_list.html", rows=process_forms.overview())


@bp.get("/forms/new")
@require("processes.edit")
def form_new():
    return _editor(None, NEW_FORM, None, [])


@bp.post("/forms/new")
@require("processes.edit")
def form_create():
    body = json_body()
    row = process_forms.create(body.get("definition"), current_user, comment=_comment(body))
    return jsonify({"key": row.key, "version": row.version,
                    "url": url_for("processes.form_editor", key=row.key)}), 201


@bp.get("/forms/<key>")
@require("processes.edit")
def form_editor(key):
    data, latest = process_forms.source(key)
    return _editor(key, data, latest, process_forms.versions(key))


@bp.post("/forms/<key>")
@require("processes.edit")
def form_deploy(key):
    body = json_body()
    process_forms.source(key)  # a form that does not exist is created on the "new form" page
    row = process_forms.deploy(key, body.get("definition"), current_user, comment=_comment(body))
    return jsonify({"key": row.key, "version": row.version}), 201


@bp.post("/forms/<key>/preview")
@require("processes.edit")
def form_preview(key):
    """The form as a task page shows it, made by the same code: a fragment for the editor's preview."""
    data = json_body()
    found = process_forms.problems(data)
    if found:
        raise InvalidInput(_l("The form has errors; the preview shows it once they are fixed."),
                           problems=[p.as_dict() for p in found])
    spec = load_definition(data)
    locale = request.args.get("lang")
    if locale not in current_app.config["LANGUAGES"]:
        locale = str(get_locale())
    form = spec.form_class(locale)(formdata=None, meta={"csrf": False})
    if spec.offered:
        spec.offer(form, {}, locale)
    return render_template("processes/_form_preview.html", spec=spec, form=form, title=spec.title.get(locale),
                           lang=locale)


@bp.get("/forms/<key>/versions/<int:number>.json")
@require("processes.edit")
def form_version_file(key, number):
    row = process_forms.version(key, number)
    return Response(row.definition, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{row.key}-v{row.version}.json"'})


def _editor(key, data: dict, latest, versions):
    target = key or "new"
    return render_template(
        "processes/form_editor.html", key=key, definition=data, latest=latest, versions=versions,
        title=(data.get("title") or {}).get(str(get_locale())) if isinstance(data.get("title"), dict) else None,
        urls={"preview": url_for("processes.form_preview", key=target),
              "deploy": url_for("processes.form_deploy", key=key) if key else url_for("processes.form_create"),
              "list": url_for("processes.form_list"),
              "version": url_for("processes.form_version_file", key=key, number=0) if key else None})


def _comment(body: dict) -> str:
    comment = body.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise InvalidInput(_l("The comment must be text."), field="comment")
    return comment or ""
