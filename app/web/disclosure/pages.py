"""Public disclosure pages: standards, categories with their current documents, the archive, a
document's card and file, search. No login: regulators and the public read them."""
from flask import abort, make_response, render_template, request, send_file
from flask_login import current_user

from app import policy
from app.services import disclosure, file_store
from app.services import disclosure_periods as periods
from app.web.disclosure import bp

RECENT_ARCHIVE = 10
ARCHIVE_PAGE = 50


@bp.get("/")
def index():
    return render_template("disclosure/index.html", standards=disclosure.standards())


@bp.get("/search")
def search():
    query = request.args.get("q", "").strip()[:200]
    include_archive = request.args.get("archive") == "1"
    hits = disclosure.search(query, include_archive=include_archive) if query else []
    return render_template("disclosure/search.html", query=query, include_archive=include_archive, hits=hits)


@bp.get("/<standard>/")
def standard(standard):
    found = disclosure.find_standard(standard)
    return render_template("disclosure/standard.html", standard=found,
                           periodicity_labels=periods.PERIODICITY_LABELS)


@bp.get("/<standard>/<category>/")
def category(standard, category):
    found = disclosure.find_category(standard, category)
    latest = disclosure.latest_by_item(i.id for i in found.items)
    archive, archived_count = disclosure.archived(found, per_page=RECENT_ARCHIVE)
    generated = {}
    if any(i.generator for i in found.items):
        from app.services import disclosure_generated

        year = request.args.get("year", type=int)
        generated = {i.generator: disclosure_generated.data_for(i.generator, year=year if i.generator == "tp_stats"
                                                                else None)
                     for i in found.items if i.generator}
    return render_template("disclosure/category.html", category=found, latest=latest, archive=archive,
                           archived_count=archived_count, generated=generated,
                           periodicity=periods.PERIODICITY_LABELS[found.periodicity],
                           may_publish=policy.can_publish_in(current_user, found))


@bp.get("/<standard>/<category>/archive")
def archive(standard, category):
    found = disclosure.find_category(standard, category)
    page = request.args.get("page", 1, type=int)
    item_code = request.args.get("item")
    item = next((i for i in found.items if i.code == item_code), None) if item_code else None
    if item_code and item is None:
        abort(404)
    rows, total = disclosure.archived(found, page=page, per_page=ARCHIVE_PAGE,
                                      item_id=item.id if item else None)
    pages = max((total + ARCHIVE_PAGE - 1) // ARCHIVE_PAGE, 1)
    if page < 1 or page > pages:
        abort(404)
    return render_template("disclosure/archive.html", category=found, item=item, rows=rows, total=total,
                           page=page, pages=pages)


@bp.get("/documents/<int:document_id>")
def document(document_id):
    found = disclosure.get_document(document_id)
    return render_template("disclosure/document.html", document=found,
                           versions=disclosure.versions(found.item))


@bp.get("/documents/<int:document_id>/file")
def document_file(document_id):
    found = disclosure.get_document(document_id)
    # A published file never changes under its URL (a new version gets a new one): robots may cache it.
    if request.if_none_match.contains(found.sha256):
        return make_response("", 304)
    response = send_file(file_store.store().locate(found.sha256), mimetype=found.content_type,
                         download_name=found.filename, as_attachment=found.content_type != file_store.PDF,
                         etag=found.sha256, conditional=True, max_age=86400)
    response.headers["X-Content-SHA256"] = found.sha256
    return response


def period_label(code: str | None) -> str:
    period = periods.parse(code) if code else None
    return period.label() if period else ""


@bp.app_template_filter("disclosure_period")
def _period_filter(code):
    return period_label(code)


@bp.app_template_filter("doc_format")
def _format_filter(document):
    return disclosure.format_of(document)
