"""Process analysts' pages: the processes with their versions, and the modeler's JSON calls (the
draft, validation, deploying, the catalog of names). Only analysts and administrators get here."""
from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.extensions import db
from app.policy import require
from app.services import processes
from app.services.errors import InvalidInput, ServiceError

bp = Blueprint("processes", __name__, url_prefix="/processes")


@bp.get("/")
@require("processes.edit")
def index():
    return render_template("processes/index.html", rows=processes.overview())


@bp.route("/import", methods=["GET", "POST"])
@require("processes.edit")
def import_diagram():
    """A .bpmn file made elsewhere, deployed as a new process or the next version of its own."""
    problems, status = [], 200
    if request.method == "POST":
        upload = request.files.get("file")
        try:
            row, problems = processes.import_diagram(upload.read() if upload else b"",
                                                     upload.filename if upload else "", current_user,
                                                     comment=request.form.get("comment", ""))
        except ServiceError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
            problems, status = error.details.get("problems", []), error.status
        else:
            warnings = len(problems)
            flash(_("Deployed: %(name)s, version %(version)s.", name=row.name, version=row.version)
                  + (" " + _("Warnings: %(n)s (listed below; what other modelers add is ignored).", n=warnings)
                     if warnings else ""), "success")
            if not warnings:
                return redirect(url_for("processes.modeler", key=row.key))
            problems = [p.as_dict() for p in problems]
    return render_template("processes/import.html", problems=problems,
                           comment=request.form.get("comment", "")), status


@bp.get("/<key>/")
@require("processes.edit")
def modeler(key):
    latest = processes.latest(key)
    versions = processes.versions(key)
    return render_template(
        "processes/modeler.html", process=latest, deployed_version=latest.version,
        versions=[{"version": v.definition.version, "deployed_at": v.definition.deployed_at.isoformat(),
                   "deployed_by": v.definition.deployed_by.full_name if v.definition.deployed_by else None,
                   "comment": v.definition.comment or "", "running": v.running,
                   "url": url_for("processes.version_file", key=key, number=v.definition.version)}
                  for v in versions],
        draft_url=url_for("processes.draft", key=key, version=request.args.get("version", type=int)),
        validate_url=url_for("processes.validate", key=key),
        deploy_url=url_for("processes.deploy", key=key), catalog_url=url_for("processes.catalog"))


@bp.get("/catalog")
@require("processes.edit")
def catalog():
    return jsonify(processes.catalog())


@bp.route("/<key>/draft", methods=["GET", "PUT", "DELETE"])
@require("processes.edit")
def draft(key):
    if request.method == "PUT":
        body = json_body()
        row = processes.save_draft(key, _xml(body), _int(body.get("revision"), "revision"), current_user,
                                   comment=str(body.get("comment") or ""))
        return jsonify({"revision": row.revision, "updated_at": row.updated_at.isoformat()})
    if request.method == "DELETE":
        processes.discard_draft(key, current_user)
        return "", 204
    found = processes.draft(key)
    number = request.args.get("version", type=int)
    if number:  # an earlier version opened to work from: saving it replaces the draft, knowingly
        return jsonify({"xml": processes.version(key, number).bpmn_xml, "revision": found.revision,
                        "base_version": number, "updated_by": found.updated_by,
                        "updated_at": found.updated_at.isoformat(), "is_draft": False, "comment": ""})
    return jsonify({"xml": found.xml, "revision": found.revision, "base_version": found.base_version,
                    "updated_by": found.updated_by, "updated_at": found.updated_at.isoformat(),
                    "is_draft": found.is_draft, "comment": found.comment})


@bp.post("/<key>/validate")
@require("processes.edit")
def validate(key):
    processes.latest(key)
    return jsonify({"problems": [p.as_dict() for p in processes.check(_xml(json_body()))]})


@bp.post("/<key>/deploy")
@require("processes.edit")
def deploy(key):
    body = json_body()
    revision = body.get("revision")
    row = processes.deploy(key, _xml(body), current_user, comment=str(body.get("comment") or ""),
                           revision=_int(revision, "revision") if revision is not None else None)
    return jsonify({"key": row.key, "version": row.version}), 201


@bp.get("/<key>/diff")
@require("processes.edit")
def diff(key):
    """Two versions side by side, or the draft against a deployed version (?new=draft)."""
    from app.services import process_diff

    versions = processes.versions(key)
    numbers = [v.definition.version for v in versions]
    if request.args.get("new") == process_diff.DRAFT:
        new, old = process_diff.DRAFT, request.args.get("old", type=int) or numbers[0]
        new_url = url_for("processes.draft_file", key=key)
    else:
        new = request.args.get("new", type=int) or numbers[0]
        old = request.args.get("old", type=int) or (numbers[1] if len(numbers) > 1 else numbers[0])
        new_url = url_for("processes.version_file", key=key, number=new)
    found = process_diff.compare(key, old, new)
    return render_template("processes/diff.html", key=key, name=versions[0].definition.name, diff=found,
                           numbers=numbers, old_url=url_for("processes.version_file", key=key, number=old),
                           new_url=new_url, draft=process_diff.DRAFT)


@bp.get("/<key>/draft.bpmn")
@require("processes.edit")
def draft_file(key):
    return Response(processes.draft(key).xml, mimetype="application/xml")


@bp.post("/<key>/versions/<int:number>/rollback")
@require("processes.edit")
def rollback(key, number):
    try:
        row = processes.rollback(key, number, current_user)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error.message), "danger")
    else:
        flash(_("Version %(old)s is deployed again as version %(new)s: new cases start on it; running cases "
                "stay on theirs.", old=number, new=row.version), "success")
    return redirect(url_for("processes.modeler", key=key))


@bp.get("/<key>/versions/<int:number>.bpmn")
@require("processes.edit")
def version_file(key, number):
    row = processes.version(key, number)
    return Response(row.bpmn_xml, mimetype="application/xml", headers={
        "Content-Disposition": f'attachment; filename="{row.key}-v{row.version}.bpmn"'})


def json_body() -> dict:
    """The JSON object the page's script sent (the modeler, the form editor)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput(_l("Send a JSON object."))
    return body


def _xml(body: dict) -> str:
    xml = body.get("xml")
    if not isinstance(xml, str) or not xml.strip():
        raise InvalidInput(_l("Send the diagram as the “xml” string."), field="xml")
    return xml


def _int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(_l("“%(name)s” must be a whole number.", name=name), field=name)
    return value


from app.web.processes import forms, migration, test_runs  # noqa: E402,F401  (they add their routes to bp)
