"""Declarative task forms: definitions are checked, and the generated forms validate, speak the form's
language, hand back plain task data and render with labels tied to their inputs."""
import copy
import json
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import render_template, request

from app import create_app
from app.web.forms import Form
from workflows.forms import FormDefinitionError, load_definition, load_file, load_folder

FORMS_FOLDER = Path(__file__).resolve().parents[2] / "bpmn" / "forms"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 100
PDF = b"%PDF-1.7\n" + b"\x00" * 100
MB = 1024 * 1024


@pytest.fixture(scope="module")
def app():
    return create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://", WTF_CSRF_ENABLED=False)


@pytest.fixture(scope="module")
def forms():
    return load_folder(FORMS_FOLDER)


def today(app) -> date:
    return datetime.now(ZoneInfo(app.config["TIMEZONE"])).date()


def submit(app, definition, data, locale="ru"):
    """POST `data` to a fresh form; returns (form, is valid, values when valid)."""
    with app.test_request_context(method="POST", data=data):
        form = definition.form_class(locale)()
        valid = form.validate()
        values = definition.values(form) if valid else None
        # Large bodies are spooled to temporary files, which the test context leaves open.
        request.close()
        request.environ["wsgi.input"].close()
        return form, valid, values


def good_request(app, **changes):
    data = {"reason": "failure", "visit_date": today(app).isoformat(), "phone": "+7 900 123-45-67",
            "comment": "  Счётчик в подъезде, щиток 3.  ", "meter_photo": (BytesIO(PNG), "meter.png")}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def good_review(**changes):
    data = {"decision": "approve", "visit_date": "2099-01-15",
            "materials-0-name": "Счётчик «Меркурий 206»", "materials-0-quantity": "1",
            "materials-1-name": "Провод ПВС 2×2,5", "materials-1-quantity": "1,5",
            "materials-2-name": "", "materials-2-quantity": ""}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


# --- definitions -------------------------------------------------------------------------------------

def test_both_demo_forms_load_and_build(forms):
    assert {"demo_request", "demo_review"} <= set(forms)  # other processes add their own
    assert [f.name for f in forms["demo_request"].fields] == ["reason", "visit_date", "phone", "comment",
                                                              "meter_photo"]
    assert forms["demo_request"].multipart and not forms["demo_review"].multipart
    for definition in forms.values():
        for locale in ("ru", "en"):
            form_class = definition.form_class(locale)
            assert issubclass(form_class, Form)
            assert definition.form_class(locale) is form_class  # built once per language
    assert forms["demo_review"].form_class("en_US") is forms["demo_review"].form_class("en")


def review_definition() -> dict:
    return json.loads((FORMS_FOLDER / "demo_review.json").read_text(encoding="utf-8"))


def broken(change) -> dict:
    data = review_definition()
    change(data)
    return data


def field_of(data, name):
    return next(f for f in data["fields"] if f["name"] == name)


@pytest.mark.parametrize("change, expected", [
    (lambda d: field_of(d, "decision").update(type="radio"), 'demo_review: field "decision": unknown type "radio"'),
    (lambda d: field_of(d, "decision").pop("choices"), 'demo_review: field "decision": "choices" must be'),
    (lambda d: field_of(d, "decision").update(lable={"ru": "x", "en": "x"}),
     'demo_review: field "decision": unknown key "lable" (did you mean "label"?)'),
    (lambda d: field_of(d, "decision").update(max_mb=3), 'field "decision": "max_mb" is not used by a "choice" field'),
    (lambda d: field_of(d, "decision").update(label={"ru": "Решение"}), 'field "decision": "label" must be'),
    (lambda d: d["fields"].append(copy.deepcopy(field_of(d, "decision"))), 'field "decision": the name is used twice'),
    (lambda d: field_of(d, "rejection_reason").update(pattern="[a-"),
     'field "rejection_reason": "pattern" is not a valid regular expression'),
    (lambda d: field_of(d, "rejection_reason").update(required_if={"field": "decisoin", "equals": "reject"}),
     'field "rejection_reason": "required_if" refers to "decisoin"'),
    (lambda d: field_of(d, "rejection_reason").update(required_if={"field": "decision", "equals": "refuse"}),
     'field "rejection_reason": "required_if": \'refuse\' is not a possible value of "decision"'),
    (lambda d: field_of(d, "rejection_reason").update(required=True), 'field "rejection_reason": "required" and'),
    (lambda d: field_of(d, "visit_date").update(min="yesterday"), 'field "visit_date": "min" must be a date'),
    (lambda d: field_of(d, "visit_date").update(min="2030-01-01", max="2029-01-01"),
     'field "visit_date": "min" is more than "max"'),
    (lambda d: field_of(d, "materials")["columns"][1].update(type="file"),
     'field "materials", column "quantity": unknown type "file"'),
    (lambda d: field_of(d, "materials")["columns"][0].update(help={"ru": "x", "en": "x"}),
     'field "materials", column "name": "help" is not used by a "text" column'),
    (lambda d: field_of(d, "materials").update(min_rows=5, max_rows=2), 'field "materials": "min_rows" 5 is more'),
    (lambda d: d["fields"].append({"name": "scan", "type": "file", "label": {"ru": "Скан", "en": "Scan"},
                                   "accept": ["image/gif"]}), 'field "scan": cannot check the content of "image/gif"'),
    (lambda d: d["fields"].append({"name": "data", "type": "text", "label": {"ru": "Д", "en": "D"}}),
     'field "data": the name is reserved'),
    (lambda d: d["fields"].append({"name": "Note", "type": "text", "label": {"ru": "Д", "en": "D"}}),
     'demo_review: field #5: "name" must be'),
    (lambda d: d.update(fields=[]), 'demo_review: "fields" must be a non-empty list'),
    (lambda d: d.update(version=2), 'demo_review: unknown key "version"'),
])
def test_a_broken_definition_names_the_form_and_the_field(change, expected):
    with pytest.raises(FormDefinitionError) as error:
        load_definition(broken(change))
    assert expected in str(error.value)


def test_a_broken_file_is_named(tmp_path):
    path = tmp_path / "demo_review.json"
    path.write_text(json.dumps(broken(lambda d: field_of(d, "decision").update(type="radio"))), encoding="utf-8")
    with pytest.raises(FormDefinitionError, match=r'^demo_review\.json: demo_review: field "decision": '
                                                  r'unknown type "radio"'):
        load_file(path)
    with pytest.raises(FormDefinitionError, match=r"^demo_review\.json: demo_review: field"):
        load_folder(tmp_path)
    path.write_text('{"key": "demo_review",', encoding="utf-8")
    with pytest.raises(FormDefinitionError, match=r"^demo_review\.json: not valid JSON"):
        load_folder(tmp_path)


def test_the_file_name_must_match_the_key(tmp_path):
    (tmp_path / "review.json").write_text(json.dumps(review_definition()), encoding="utf-8")
    with pytest.raises(FormDefinitionError, match='review.json: the key "demo_review" differs from the file name'):
        load_folder(tmp_path)


# --- validation --------------------------------------------------------------------------------------

@pytest.mark.parametrize("locale, reason, phone", [
    ("ru", "Выберите значение.", "Заполните это поле."),
    ("en", "Choose a value.", "Fill in this field."),
])
def test_required_fields_speak_the_forms_language(app, forms, locale, reason, phone):
    form, valid, _ = submit(app, forms["demo_request"], {"comment": ""}, locale)
    assert not valid
    assert form.errors == {"reason": [reason], "visit_date": [phone], "phone": [phone]}


def test_a_good_request_gives_plain_task_data(app, forms):
    form, valid, values = submit(app, forms["demo_request"], good_request(app))
    assert valid, form.errors
    photo = values["meter_photo"]
    assert photo.pop("data") == PNG
    assert values == {"reason": "failure", "visit_date": today(app).isoformat(), "phone": "+7 900 123-45-67",
                      "comment": "Счётчик в подъезде, щиток 3.",
                      "meter_photo": {"filename": "meter.png", "content_type": "image/png", "size": len(PNG)}}
    json.dumps(values)


def test_optional_fields_may_stay_empty(app, forms):
    form, valid, values = submit(app, forms["demo_request"], good_request(app, comment="", meter_photo=None))
    assert valid, form.errors
    assert values["comment"] is None and values["meter_photo"] is None


@pytest.mark.parametrize("locale, message", [("ru", "Дата не может быть в прошлом."),
                                             ("en", "The date cannot be in the past.")])
def test_a_visit_date_in_the_past_is_refused(app, forms, locale, message):
    yesterday = (today(app) - timedelta(days=1)).isoformat()
    form, valid, _ = submit(app, forms["demo_request"], good_request(app, visit_date=yesterday), locale)
    assert not valid and form.errors == {"visit_date": [message]}
    assert f'value="{yesterday}"' in str(form.visit_date())  # what was typed stays


@pytest.mark.parametrize("typed, stored", [("2099-12-31", "2099-12-31"), ("31.12.2099", "2099-12-31")])
def test_dates_are_read_from_the_date_input_or_typed_the_russian_way(app, forms, typed, stored):
    _form, valid, values = submit(app, forms["demo_request"], good_request(app, visit_date=typed))
    assert valid and values["visit_date"] == stored


def test_a_date_that_is_not_a_date(app, forms):
    form, valid, _ = submit(app, forms["demo_request"], good_request(app, visit_date="завтра"))
    assert not valid and form.errors == {"visit_date": ["Введите дату в формате ДД.ММ.ГГГГ."]}


@pytest.mark.parametrize("phone, ok", [("+7 (900) 123-45-67", True), ("+79001234567", True), ("12345", False),
                                       ("+7 900 123-45-678", False)])
def test_the_phone_must_match_the_pattern(app, forms, phone, ok):
    form, valid, _ = submit(app, forms["demo_request"], good_request(app, phone=phone), "en")
    assert valid is ok
    if not ok:
        assert form.errors == {"phone": ["Enter the number as +7 900 123-45-67."]}


def test_only_listed_choices_are_accepted(app, forms):
    form, valid, _ = submit(app, forms["demo_request"], good_request(app, reason="whim"))
    assert not valid and form.errors == {"reason": ["Выберите значение из списка."]}


def test_a_rejection_needs_its_reason(app, forms):
    review = forms["demo_review"]
    form, valid, _ = submit(app, review, good_review(decision="reject"))
    assert not valid and form.errors == {"rejection_reason": ["Заполните это поле."]}
    _form, valid, values = submit(app, review, good_review(decision="reject", rejection_reason="Нет доступа"))
    assert valid and values["rejection_reason"] == "Нет доступа"


def test_an_approval_needs_no_reason_but_a_visit_date(app, forms):
    form, valid, values = submit(app, forms["demo_review"], good_review())
    assert valid, form.errors
    assert values["rejection_reason"] is None
    form, valid, _ = submit(app, forms["demo_review"], good_review(visit_date=""), "en")
    assert not valid and form.errors == {"visit_date": ["Fill in this field."]}


def test_table_rows_blank_ones_ignored(app, forms):
    _form, valid, values = submit(app, forms["demo_review"], good_review())
    assert valid
    assert values["materials"] == [{"name": "Счётчик «Меркурий 206»", "quantity": "1"},
                                   {"name": "Провод ПВС 2×2,5", "quantity": "1.5"}]
    _form, valid, values = submit(app, forms["demo_review"], {"decision": "approve", "visit_date": "2099-01-15"})
    assert valid and values["materials"] == []


@pytest.mark.parametrize("quantity, message", [("", "Заполните это поле."),
                                               ("0", "Значение должно быть не меньше 0,001."),
                                               ("много", "Введите число, например 12,5."),
                                               ("NaN", "Введите число, например 12,5.")])
def test_a_bad_cell_is_marked_in_its_row(app, forms, quantity, message):
    form, valid, _ = submit(app, forms["demo_review"], good_review(**{"materials-1-quantity": quantity}))
    assert not valid
    assert form.errors == {"materials": ["Исправьте ошибки в строках таблицы."]}
    assert form.materials.entries[1].form.quantity.errors == [message]
    assert form.materials.entries[0].form.quantity.errors == []


def test_a_table_has_at_most_max_rows(app, forms):
    rows = {f"materials-{i}-{column}": value for i in range(21) for column, value in (("name", "Болт"),
                                                                                       ("quantity", "1"))}
    form, valid, _ = submit(app, forms["demo_review"], good_review(**rows), "en")
    assert not valid and form.errors == {"materials": ["The table can have at most 20 rows."]}


@pytest.mark.parametrize("content, name, content_type", [(JPEG, "meter.jpg", "image/jpeg"), (PNG, "photo", "image/png"),
                                                         (PDF, "act.pdf", "application/pdf")])
def test_photos_and_scans_are_recognised_by_content(app, forms, content, name, content_type):
    # The browser's claim (here application/octet-stream) does not count.
    photo = (BytesIO(content), name, "application/octet-stream")
    _form, valid, values = submit(app, forms["demo_request"], good_request(app, meter_photo=photo))
    assert valid and values["meter_photo"]["content_type"] == content_type


@pytest.mark.parametrize("locale, message", [("ru", "Файл должен быть в формате JPEG, PNG или PDF."),
                                             ("en", "The file must be a JPEG, PNG or PDF.")])
def test_a_text_file_named_like_a_photo_is_refused(app, forms, locale, message):
    photo = (BytesIO(b"just some text, not a picture"), "photo.jpg", "image/jpeg")
    form, valid, _ = submit(app, forms["demo_request"], good_request(app, meter_photo=photo), locale)
    assert not valid and form.errors == {"meter_photo": [message]}


def test_files_up_to_max_mb_only(app, forms):
    at_limit = JPEG + b"\x00" * (10 * MB - len(JPEG))
    photo = (BytesIO(at_limit), "a.jpg")
    _form, valid, values = submit(app, forms["demo_request"], good_request(app, meter_photo=photo))
    assert valid and values["meter_photo"]["size"] == 10 * MB
    form, valid, _ = submit(app, forms["demo_request"],
                            good_request(app, meter_photo=(BytesIO(at_limit + b"\x00"), "a.jpg")))
    assert not valid and form.errors == {"meter_photo": ["Файл больше 10 МБ."]}


def test_an_empty_file_is_refused(app, forms):
    form, valid, _ = submit(app, forms["demo_request"], good_request(app, meter_photo=(BytesIO(b""), "a.jpg")), "en")
    assert not valid and form.errors == {"meter_photo": ["The file is empty."]}


# Every type and validator the demo forms leave out.
ALL_TYPES = {
    "key": "all_types",
    "title": {"ru": "Все типы", "en": "All types"},
    "fields": [
        {"name": "meters", "type": "number", "label": {"ru": "Счётчиков", "en": "Meters"}, "min": 1, "max": 1000,
         "default": 1},
        {"name": "power", "type": "decimal", "label": {"ru": "Мощность, кВт", "en": "Power, kW"}, "max": "15"},
        {"name": "works", "type": "multichoice", "label": {"ru": "Работы", "en": "Works"}, "required": True,
         "choices": [{"value": "mount", "label": {"ru": "Монтаж", "en": "Mounting"}},
                     {"value": "seal", "label": {"ru": "Пломбировка", "en": "Sealing"}}]},
        {"name": "access", "type": "yesno", "label": {"ru": "Есть доступ", "en": "Access granted"}, "required": True},
        {"name": "on", "type": "date", "label": {"ru": "Дата", "en": "Date"}, "default": "today", "max": "today+30"},
        {"name": "code", "type": "text", "label": {"ru": "Код", "en": "Code"}, "min_length": 3, "max_length": 5},
        {"name": "note", "type": "text", "label": {"ru": "Примечание", "en": "Note"},
         "required_if": {"field": "access", "equals": False}},
    ],
}


def test_numbers_choices_yes_no_and_lengths(app):
    definition = load_definition(ALL_TYPES)
    data = {"meters": "0", "power": "15,5", "works": ["mount", "paint"], "code": "ab", "on": "2000-01-01"}
    form, valid, _ = submit(app, definition, data)
    assert not valid
    assert form.errors == {"meters": ["Значение должно быть не меньше 1."],
                           "power": ["Значение должно быть не больше 15."],
                           "works": ["Выберите значение из списка."], "access": ["Выберите значение."],
                           "code": ["Минимальная длина — 3 симв."]}
    data = {"meters": "2", "power": "1 250,5", "works": ["mount", "seal"], "access": "no", "code": "abcdef"}
    form, valid, _ = submit(app, definition, data, "en")
    assert form.errors == {"power": ["The value must be at most 15."], "code": ["Enter at most 5 characters."],
                           "note": ["Fill in this field."]}
    data = {"meters": "2", "power": "7,5", "works": ["seal"], "access": "yes", "code": "abc",
            "on": today(app).isoformat()}
    form, valid, values = submit(app, definition, data)
    assert valid, form.errors
    assert values == {"meters": 2, "power": "7.5", "works": ["seal"], "access": True, "on": today(app).isoformat(),
                      "code": "abc", "note": None}
    later = (today(app) + timedelta(days=31)).isoformat()
    form, valid, _ = submit(app, definition, dict(data, on=later), "en")
    assert not valid and form.errors["on"][0].startswith("The date must not be later than ")


def test_defaults_fill_a_new_form(app):
    definition = load_definition(ALL_TYPES)
    with app.test_request_context():
        form = definition.form_class("ru")()
        assert form.meters.data == 1 and form.on.data == today(app)


def test_stored_values_fill_the_form_again(app, forms):
    review = forms["demo_review"]
    _form, valid, stored = submit(app, review, good_review(decision="reject", rejection_reason="Нет доступа"))
    assert valid
    stored = json.loads(json.dumps(stored))  # as it comes back from the database
    with app.test_request_context():
        form = review.form_class("ru")(data=review.initial(stored))
        assert review.values(form) == stored
        assert form.materials.entries[1].form.quantity._value() == "1.5"
    assert review.initial({"visit_date": "not a date", "decision": "approve", "gone": 1}) == {"decision": "approve"}


def test_the_forms_carry_the_csrf_token_of_page_forms():
    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")
    review = load_folder(FORMS_FOLDER)["demo_review"]
    with app.test_request_context(method="POST", data=good_review()):
        form = review.form_class("ru")()
        assert not form.validate() and "csrf_token" in form.errors


# --- rendering ---------------------------------------------------------------------------------------

class Controls(HTMLParser):
    """Collects ids, label targets and the controls a person fills in."""

    def __init__(self):
        super().__init__()
        self.ids, self.label_for, self.controls = set(), [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "label":
            self.label_for.append(attrs.get("for"))
        if tag in ("input", "select", "textarea") and attrs.get("type") != "hidden":
            self.controls.append(attrs.get("id"))


@pytest.mark.parametrize("locale", ["ru", "en"])
def test_rendered_labels_are_tied_to_their_inputs(app, forms, locale):
    definitions = list(forms.values()) + [load_definition(ALL_TYPES)]
    for definition in definitions:
        with app.test_request_context(method="POST", data={"decision": "reject", "materials-0-quantity": "x"}):
            form = definition.form_class(locale)()
            form.validate()
            html = render_template("tasks/_task_form.html", form=form)
        page = Controls()
        page.feed(html)
        assert page.controls and None not in page.controls, definition.key
        assert all(target in page.ids for target in page.label_for), f"{definition.key}: a label points at nothing"
        assert set(page.controls) <= set(page.label_for), f"{definition.key}: a control without a label"
        for spec in definition.fields:
            assert spec.label.get(locale) in html
