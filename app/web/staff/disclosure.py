"""Staff: publishing disclosure documents (upload, versions, withdrawal) and editing the taxonomy."""
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from app import policy
from app.extensions import db
from app.models import (DisclosureCategory, DisclosureDocument, DisclosureItem, DisclosureStandard, StaffGroup, User,
                        UserRole)
from app.models.disclosure import GENERATORS, PERIODICITIES
from app.policy import require
from app.services import disclosure
from app.services import disclosure_periods as periods
from app.services.errors import ServiceError
from app.services.periods import local_today
from app.web.forms import Form, show_error
from app.web.staff import bp

CODE = Regexp(r"^[a-z0-9][a-z0-9-]*$", message=_l("Use small Latin letters, digits and hyphens."))
# Words the public URLs use after /disclosure/: a standard cannot be called so.
RESERVED = {"search", "documents", "generated", "index.json", "index.schema.json", "feed.atom"}


class UploadForm(Form):
    file = FileField(_l("File (PDF, XLSX or DOCX)"), validators=[FileRequired(_l("Choose a file."))])
    title = StringField(_l("Title"), validators=[Optional(), Length(max=300)], render_kw={"maxlength": 300},
                        description=_l("As the public page will show it; the item's name when left empty."))
    period = SelectField(_l("Period covered"), choices=[], validate_choice=False)
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=500)], render_kw={"rows": 2, "maxlength": 500})
    revision = HiddenField()


class WithdrawForm(Form):
    reason = StringField(_l("Reason for withdrawal"), validators=[DataRequired(_l("Say why the document is withdrawn.")),
                                                                  Length(max=500)], render_kw={"maxlength": 500})
    revision = HiddenField()


def _period_choices(category: DisclosureCategory) -> list[SelectChoice]:
    if category.periodicity not in periods.PERIODIC:
        return [SelectChoice("", _("— no period (in force until replaced)"))]
    recent = periods.recent(category.periodicity, local_today(), count=8)
    # The period most often published is the last one that is over, so it comes first.
    ordered = recent[1:2] + recent[:1] + recent[2:]
    return [SelectChoice(p.code, p.label()) for p in ordered]


def _revision(raw) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return -1  # no revision seen: the guard refuses it as a stale form


@bp.route("/disclosure/items/<int:item_id>", methods=["GET", "POST"])
@require("disclosure.publish")
def disclosure_item(item_id):
    item = db.get_or_404(DisclosureItem, item_id)
    category = item.category
    may_publish = policy.can_publish_in(current_user, category)
    if request.method == "POST":
        # A disclosure document may be larger than the portal's other uploads; the service says how large.
        request.max_content_length = (current_app.config["DISCLOSURE_MAX_MB"] + 1) * 1024 * 1024
    form = UploadForm()
    form.period.choices = _period_choices(category)
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        try:
            document = disclosure.publish(item, data=upload.read(), filename=upload.filename, user=current_user,
                                          seen_revision=_revision(form.revision.data), title=form.title.data,
                                          period=form.period.data, note=form.note.data)
        except ServiceError as error:
            db.session.rollback()
            show_error(form, error)
            status = error.status
        else:
            flash(_("Published: %(title)s, version %(version)s. The public page shows it now.",
                    title=document.title, version=document.version), "success")
            return redirect(url_for("staff.disclosure_item", item_id=item.id))
    elif request.method == "POST":
        status = 422
    if request.method == "GET" or form.revision.data in (None, ""):
        form.revision.data = str(item.revision)
    latest = disclosure.latest_by_item([item.id]).get(item.id)
    withdraw_form = WithdrawForm(formdata=None, revision=str(item.revision))
    return render_template("staff/disclosure_item.html", item=item, category=category, form=form,
                           withdraw_form=withdraw_form, versions=disclosure.versions(item), latest=latest,
                           may_publish=may_publish, max_mb=current_app.config["DISCLOSURE_MAX_MB"],
                           periodicity=periods.PERIODICITY_LABELS[category.periodicity]), status


@bp.post("/disclosure/documents/<int:document_id>/withdraw")
@require("disclosure.publish")
def disclosure_withdraw(document_id):
    document = db.get_or_404(DisclosureDocument, document_id)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            disclosure.withdraw(document, user=current_user, reason=form.reason.data,
                                seen_revision=_revision(form.revision.data))
        except ServiceError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
        else:
            flash(_("The document is withdrawn; it stays reachable, marked so."), "success")
    else:
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "danger")
    return redirect(url_for("staff.disclosure_item", item_id=document.item_id))


# --- the taxonomy (administrators) -------------------------------------------------------------------------

class StandardForm(Form):
    code = StringField(_l("Code (in the address)"), validators=[DataRequired(_l("Enter the code.")), Length(max=40), CODE])
    title_ru = StringField(_l("Title in Russian"), validators=[DataRequired(_l("Enter the title.")), Length(max=300)])
    title_en = StringField(_l("Title in English"), validators=[DataRequired(_l("Enter the title.")), Length(max=300)])
    act_ru = StringField(_l("The act, in Russian"), validators=[Optional(), Length(max=300)])
    act_en = StringField(_l("The act, in English"), validators=[Optional(), Length(max=300)])
    position = IntegerField(_l("Position"), default=0, validators=[Optional(), NumberRange(0, 1000)])


class CategoryForm(Form):
    code = StringField(_l("Code (in the address)"), validators=[DataRequired(_l("Enter the code.")), Length(max=60), CODE])
    clause = StringField(_l("Clause of the act"), validators=[Optional(), Length(max=60)])
    title_ru = StringField(_l("Title in Russian"), validators=[DataRequired(_l("Enter the title.")), Length(max=300)])
    title_en = StringField(_l("Title in English"), validators=[DataRequired(_l("Enter the title.")), Length(max=300)])
    description_ru = TextAreaField(_l("Description in Russian"), validators=[Optional()], render_kw={"rows": 2})
    description_en = TextAreaField(_l("Description in English"), validators=[Optional()], render_kw={"rows": 2})
    periodicity = SelectField(_l("Periodicity"), choices=[])
    due_days = IntegerField(_l("Days to publish after the period (or the change)"), default=30,
                            validators=[InputRequired(_l("Enter the number of days.")),
                                        NumberRange(1, 400, message=_l("From 1 to 400 days."))])
    publisher_group = SelectField(_l("Who publishes (staff group)"), choices=[], coerce=str)
    responsible = SelectField(_l("Responsible for the deadline"), choices=[], coerce=str)
    position = IntegerField(_l("Position"), default=0, validators=[Optional(), NumberRange(0, 1000)])


class ItemForm(Form):
    code = StringField(_l("Code"), validators=[DataRequired(_l("Enter the code.")), Length(max=60), CODE])
    title_ru = StringField(_l("Title in Russian"), validators=[DataRequired(_l("Enter the title.")), Length(max=300)])
    title_en = StringField(_l("Title in English"), validators=[DataRequired(_l("Enter the title.")), Length(max=300)])
    generator = SelectField(_l("Content"), choices=[], coerce=str)
    position = IntegerField(_l("Position"), default=0, validators=[Optional(), NumberRange(0, 1000)])


GENERATOR_LABELS = {"tariffs": _l("generated: tariffs in force"),
                    "tp_stats": _l("generated: connection applications by quarter"),
                    "free_capacity": _l("generated: free capacity of substations")}


def _category_choices(form: CategoryForm) -> None:
    form.periodicity.choices = [SelectChoice(p, periods.PERIODICITY_LABELS[p]) for p in PERIODICITIES]
    groups = db.session.scalars(select(StaffGroup).order_by(StaffGroup.code)).all()
    form.publisher_group.choices = [SelectChoice("", _("administrators only"))] + [
        SelectChoice(str(g.id), g.name_en if str(get_locale()) == "en" else g.name_ru) for g in groups]
    staff = db.session.scalars(select(User).join(UserRole).where(UserRole.role.in_(policy.STAFF_ROLES))
                               .distinct().order_by(User.full_name)).all()
    form.responsible.choices = [SelectChoice("", _("nobody"))] + [
        SelectChoice(str(u.id), f"{u.full_name} <{u.email}>") for u in staff]


@bp.get("/disclosure/taxonomy")
@require("disclosure.manage")
def disclosure_taxonomy():
    return render_template("staff/disclosure_taxonomy.html", standards=disclosure.standards(),
                           standard_form=StandardForm(formdata=None), periodicities=periods.PERIODICITY_LABELS)


@bp.route("/disclosure/standards/new", methods=["POST"])
@bp.route("/disclosure/standards/<int:standard_id>", methods=["GET", "POST"])
@require("disclosure.manage")
def disclosure_standard(standard_id=None):
    standard = db.get_or_404(DisclosureStandard, standard_id) if standard_id else None
    form = StandardForm(obj=standard)
    if form.validate_on_submit():
        if form.code.data in RESERVED:
            form.code.errors = [_("This code is taken by the section's own pages; choose another.")]
        elif _taken(DisclosureStandard, form.code.data, standard, DisclosureStandard.code == form.code.data):
            form.code.errors = [_("A standard with this code exists.")]
        else:
            standard = standard or DisclosureStandard()
            form.populate_obj(standard)
            standard.position = form.position.data or 0
            disclosure.save_taxonomy(standard, current_user)
            flash(_("Saved."), "success")
            return redirect(url_for("staff.disclosure_standard", standard_id=standard.id))
    status = 422 if request.method == "POST" else 200
    return render_template("staff/disclosure_standard.html", standard=standard, form=form,
                           category_form=_new_category_form() if standard else None), status


def _new_category_form() -> CategoryForm:
    form = CategoryForm(formdata=None)
    _category_choices(form)
    return form


@bp.route("/disclosure/standards/<int:standard_id>/categories", methods=["POST"], endpoint="disclosure_category_new")
@bp.route("/disclosure/categories/<int:category_id>", methods=["GET", "POST"])
@require("disclosure.manage")
def disclosure_category(category_id=None, standard_id=None):
    category = db.get_or_404(DisclosureCategory, category_id) if category_id else None
    standard = category.standard if category else db.get_or_404(DisclosureStandard, standard_id)
    form = CategoryForm(obj=category, publisher_group=str(category.publisher_group_id or "") if category else "",
                        responsible=str(category.responsible_id or "") if category else "")
    _category_choices(form)
    if form.validate_on_submit():
        if _taken(DisclosureCategory, form.code.data, category, DisclosureCategory.standard_id == standard.id,
                  DisclosureCategory.code == form.code.data):
            form.code.errors = [_("A category with this code exists in this standard.")]
        else:
            category = category or DisclosureCategory(standard_id=standard.id)
            for name in ("code", "clause", "title_ru", "title_en", "periodicity", "due_days"):
                setattr(category, name, getattr(form, name).data)
            category.description_ru = form.description_ru.data or ""
            category.description_en = form.description_en.data or ""
            category.position = form.position.data or 0
            category.publisher_group_id = int(form.publisher_group.data) if form.publisher_group.data else None
            category.responsible_id = int(form.responsible.data) if form.responsible.data else None
            disclosure.save_taxonomy(category, current_user)
            flash(_("Saved."), "success")
            return redirect(url_for("staff.disclosure_category", category_id=category.id))
    status = 422 if request.method == "POST" else 200
    if category is None:  # a new category refused: show it on the standard's page with what was typed
        return render_template("staff/disclosure_standard.html", standard=standard, form=StandardForm(obj=standard),
                               category_form=form), status
    editing = next((i for i in category.items if str(i.id) == request.args.get("edit")), None)
    item_form = ItemForm(formdata=None, obj=editing, generator=editing.generator or "" if editing else "")
    item_form.generator.choices = _generator_choices()
    return render_template("staff/disclosure_category.html", category=category, form=form, item_form=item_form,
                           generators=GENERATOR_LABELS, editing=editing), status


def _generator_choices() -> list[SelectChoice]:
    return [SelectChoice("", _("documents uploaded by staff"))] + [
        SelectChoice(g, GENERATOR_LABELS[g]) for g in GENERATORS]


@bp.route("/disclosure/categories/<int:category_id>/items", methods=["POST"], endpoint="disclosure_item_new")
@bp.route("/disclosure/items/<int:item_id>/edit", methods=["POST"], endpoint="disclosure_item_edit")
@require("disclosure.manage")
def disclosure_item_save(category_id=None, item_id=None):
    item = db.get_or_404(DisclosureItem, item_id) if item_id else None
    category = item.category if item else db.get_or_404(DisclosureCategory, category_id)
    form = ItemForm()
    form.generator.choices = _generator_choices()
    if form.validate_on_submit():
        if _taken(DisclosureItem, form.code.data, item, DisclosureItem.category_id == category.id,
                  DisclosureItem.code == form.code.data):
            form.code.errors = [_("An item with this code exists in this category.")]
        else:
            item = item or DisclosureItem(category_id=category.id)
            item.code, item.title_ru, item.title_en = form.code.data, form.title_ru.data, form.title_en.data
            item.generator = form.generator.data or None
            item.position = form.position.data or 0
            disclosure.save_taxonomy(item, current_user)
            flash(_("Saved."), "success")
            return redirect(url_for("staff.disclosure_category", category_id=category.id))
    category_form = CategoryForm(formdata=None, obj=category, publisher_group=str(category.publisher_group_id or ""),
                                 responsible=str(category.responsible_id or ""))
    _category_choices(category_form)
    return render_template("staff/disclosure_category.html", category=category, form=category_form, item_form=form,
                           generators=GENERATOR_LABELS, editing=item), 422


def _taken(model, code: str, current, *where) -> bool:
    found = db.session.scalar(select(model.id).where(*where))
    return found is not None and (current is None or found != current.id)
