"""The documents of the case processes (technological connection, meter replacement, reassignment of an
account, answers to complaints): both twins print the case data, conditional parts come and go, values
are escaped, and `build_templates.py` rebuilds the committed files byte for byte."""
import io
import subprocess
import sys
from collections import Counter
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

import docx
import pytest
from pypdf import PdfReader

from app import create_app
from app.services import documents, file_store
from tests.documents import docx_text, pdf_text, words

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "docs_templates"
NAMES = ("tp_contract", "tp_conditions", "tp_invoice", "tp_act", "tp_notice", "meter_replacement_act",
         "reassignment_contract", "complaint_answer")
ESCAPE_ME = 'Иванов <b>Иван</b> & сын "ООО"'


@pytest.fixture(scope="module")
def app():
    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")
    with app.test_request_context():
        yield app


# --- sample case data, as the processes keep it (plain JSON values) --------------------------------------

CASE = {"number": "ТП-2026-000123", "filed_on": date(2026, 4, 20),
        "address": "Московская обл., г.о. Подольск, д. Лаговское, ул. Полевая, уч. 15"}
APPLICANT = {"full_name": "Иванова Мария Петровна", "kind": "individual", "inn": "", "phone": "+7 916 123-45-67",
             "email": "ivanova@example.ru",
             "address": "142100, Московская обл., г. Подольск, ул. Садовая, д. 7, кв. 12"}
SPECIALIST = {"full_name": "Петров Павел Сергеевич", "position": "ведущий инженер"}
CONNECTION = {
    "object_name": "жилой дом", "object_address": "Московская обл., г.о. Подольск, д. Лаговское, ул. Полевая, уч. 15",
    "cadastral_number": "50:27:0030112:415", "max_power_kw": "15", "new_power_kw": "15", "existing_power_kw": "0",
    "voltage_kv": "0,4", "reliability_category": "III", "load_character": "бытовая",
    "connection_point": "опора № 14 ВЛ-0,4 кВ Ф-2 от ТП-1123",
    "supply_source": "ПС 110/10 кВ «Лаговская», ф. 10-05, ТП-1123",
    "conditions_number": "ТУ-2026-000123", "contract_date": "2026-04-27",
}
METER = {"number": "011234567", "model": "Меркурий 201.8", "initial_reading": "00012,4"}
FEE = {"amount": "12345.60", "vat": "2226.24",
       "basis": "ставка за 1 кВт максимальной мощности, установленная приказом Комитета по ценам и тарифам "
                "Московской области от 19.12.2025 № 301-Р"}
READINGS_OLD = [{"zone": "Т1 (день)", "value": "045812,3"}, {"zone": "Т2 (ночь)", "value": "021077,9"}]
READINGS_NEW = [{"zone": "Т1 (день)", "value": "000000,0"}, {"zone": "Т2 (ночь)", "value": "000000,0"}]


def context(name: str, applicant: dict | None = None, case: dict | None = None, **data) -> dict:
    """A realistic context of the template `name`; keyword arguments change its `data`."""
    samples = {
        "tp_contract": {**CONNECTION, "connection_term": "6 месяцев", "connection_deadline": "", "fee": FEE,
                        "invoice_number": "СЧ-2026-000123", "invoice_days": "5",
                        "retail_supplier": "АО «ГридКейс Энерго»"},
        "tp_conditions": {**CONNECTION, "conditions_valid_years": "2",
                          "grid_works": ["Строительство ВЛИ-0,4 кВ от опоры № 14 до границы участка Заявителя "
                                         "проводом СИП-2 3×50+1×54,6 протяжённостью 0,12 км.",
                                         "Установка прибора учёта электрической энергии на опоре № 14."],
                          "applicant_works": ["Монтаж вводного устройства с аппаратом защиты номиналом 25 А.",
                                              "Монтаж заземляющего устройства.",
                                              "Уведомление сетевой организации о выполнении технических условий."]},
        "tp_invoice": {"invoice_number": "СЧ-2026-000123", "fee": FEE, "invoice_days": "5",
                       "invoice_due": "2026-05-19"},
        "tp_act": {**CONNECTION, "meter": METER, "connected_on": "2026-06-15",
                   "balance_boundary": "на контактных соединениях провода ответвления к вводу на опоре № 14 "
                                       "ВЛ-0,4 кВ Ф-2 от ТП-1123"},
        "tp_notice": {**CONNECTION, "meter": METER, "connected_on": "2026-06-15"},
        "meter_replacement_act": {
            "reason_text": "истёк межповерочный интервал", "replaced_on": "2026-05-14", "account_number": "5012345678",
            "old_meter": {"number": "0815432", "model": "СО-505", "zones": 2, "verified_until": "2026-03-31"},
            "old_readings": READINGS_OLD,
            "new_meter": {"number": "011234567", "model": "Меркурий 201.8", "zones": 2, "accuracy_class": "1,0",
                          "verified_on": "2026-01-20", "verified_until": "2042-01-20", "seal": "МО 0456789"},
            "new_readings": READINGS_NEW, "askue_bound": True},
        "reassignment_contract": {
            "account_number": "5012345678", "transfer_date": "2026-05-01",
            "title_document": "Выписка из ЕГРН от 28.04.2026 № КУВИ-001/2026-123456789",
            "transfer_readings": [{"zone": "Т1 (день)", "value": "045812,3"}],
            "previous_debt": "1876.43",
            "debt_text": "Задолженность остаётся за прежним собственником и не переходит к Потребителю."},
        "complaint_answer": {
            "period": "октябрь 2026", "account_number": "5012345678",
            "complaint_text": "Начисление за октябрь 2026 года выполнено по нормативу, хотя показания счётчика "
                              "я передала 24 октября через личный кабинет.",
            "decision": "recalculate", "recalculation_amount": "1234.50",
            "decision_text": "Показания прибора учёта, переданные 24.10.2026, приняты; начисление за октябрь 2026 "
                             "года выполнено повторно по показаниям вместо норматива потребления.",
            "appeal_days": "30", "is_appeal": False},
    }
    return {"case": case or CASE, "applicant": applicant or APPLICANT, "specialist": SPECIALIST,
            "data": {**samples[name], **data}, "today": date(2026, 5, 12)}


# Values each template must print (compared with the text's whitespace normalised).
COMMON = ["ТП-2026-000123", "Иванова Мария Петровна", "12.05.2026", "АО «ГридКейс Энерго»"]
EXPECTED = {
    "tp_contract": ["ДОГОВОР № ТП-2026-000123", "жилой дом", "50:27:0030112:415", "Максимальная мощность, кВт 15",
                    "Класс напряжения, кВ 0,4",
                    "6 месяцев", "12 345,60 руб., в том числе НДС 2 226,24 руб.", "приказом Комитета по ценам",
                    "ТУ-2026-000123", "счёту № СЧ-2026-000123 в течение 5 рабочих дней", "20.04.2026",
                    "Петров Павел Сергеевич", "ведущий инженер", "ivanova@example.ru", "40702810900000000001",
                    "физическое лицо"],
    "tp_conditions": ["ТЕХНИЧЕСКИЕ УСЛОВИЯ № ТУ-2026-000123", "(приложение к договору № ТП-2026-000123)",
                      "частью договора об осуществлении технологического присоединения № ТП-2026-000123",
                      "Максимальная мощность, кВт 15", "III",
                      "опора № 14 ВЛ-0,4 кВ Ф-2 от ТП-1123", "ПС 110/10 кВ «Лаговская»",
                      "1. Строительство ВЛИ-0,4 кВ", "2. Установка прибора учёта", "1. Монтаж вводного устройства",
                      "3. Уведомление сетевой организации", "в течение 2 лет", "Петров Павел Сергеевич"],
    "tp_invoice": ["СЧЁТ НА ОПЛАТУ № СЧ-2026-000123 от 12.05.2026", "7700000000", "044525225", "40702810900000000001",
                   "30101810400000000225", "ПАО Сбербанк",
                   "Плата за технологическое присоединение по договору № ТП-2026-000123",
                   "Всего к оплате 12 345,60", "В том числе НДС 2 226,24", "в течение 5 рабочих дней",
                   "не позднее 19.05.2026",
                   "Оплата по счёту № СЧ-2026-000123 от 12.05.2026. Плата за технологическое присоединение по "
                   "договору № ТП-2026-000123. Сумма 12 345,60 руб., в т.ч. НДС 2 226,24 руб."],
    "tp_act": ["АКТ № ТП-2026-000123", "от 27.04.2026", "ТУ-2026-000123", "Максимальная мощность, кВт 15",
               "опора № 14 ВЛ-0,4 кВ Ф-2 от ТП-1123", "на контактных соединениях провода ответвления",
               "Заводской номер 011234567", "Меркурий 201.8", "00012,4", "15.06.2026", "Петров Павел Сергеевич"],
    "tp_notice": ["УВЕДОМЛЕНИЕ", "по договору № ТП-2026-000123", "от 27.04.2026", "Максимальная мощность, кВт 15",
                  "опора № 14 ВЛ-0,4 кВ Ф-2 от ТП-1123", "Заводской номер 011234567", "00012,4",
                  "начиная с 15.06.2026", "ул. Садовая, д. 7"],
    "meter_replacement_act": ["АКТ № ТП-2026-000123", "замены прибора учёта", "5012345678", "14.05.2026",
                              "истёк межповерочный интервал", "СО-505", "0815432", "31.03.2026",
                              "Т1 (день) 045812,3", "Т2 (ночь) 021077,9", "Меркурий 201.8", "20.01.2042",
                              "МО 0456789", "Т1 (день) 000000,0", "Прибор учёта подключён к АИИС КУЭ"],
    "reassignment_contract": ["ДОГОВОР ЭНЕРГОСНАБЖЕНИЯ № 5012345678", "переоформление лицевого счёта",
                              "с 01.05.2026", "Выписка из ЕГРН от 28.04.2026", "Т1 (день) 045812,3",
                              "составляет 1 876,43 руб.", "не переходит к Потребителю", "20.04.2026"],
    "complaint_answer": ["ОТВЕТ НА ОБРАЩЕНИЕ № ТП-2026-000123", "октябрь 2026", "5012345678",
                         "я передала 24 октября", "перерасчёт платы", "на сумму 1 234,50 руб.",
                         "приняты; начисление за октябрь", "корректирующей записью",
                         "один раз обжаловать его в течение 30 дней"],
}


@cache
def sample_pair(name: str) -> documents.RenderedPair:
    return documents.render_pair(name, context(name))


def texts(name: str, **changes) -> tuple[str, str]:
    """The .docx and PDF text of `name` rendered with the sample context changed by `changes`."""
    pair = sample_pair(name) if not changes else documents.render_pair(name, context(name, **changes))
    assert_same_words(pair)
    return docx_text(pair.docx), pdf_text(pair.pdf)


def assert_same_words(pair: documents.RenderedPair) -> None:
    """The twins say the same: the PDF has the words of the .docx, plus the footer repeated on every page
    after the first and the page numbers."""
    footer = words(" ".join(p.text for p in docx.Document(io.BytesIO(pair.docx)).sections[0].footer.paragraphs))
    pages = len(PdfReader(io.BytesIO(pair.pdf)).pages)
    expected = Counter(docx_text(pair.docx).split())
    for page in range(1, pages + 1):
        expected.update([str(page), "/", str(pages)] + (footer.split() if page > 1 else []))
    assert Counter(pdf_text(pair.pdf).split()) == expected


# --- every template ----------------------------------------------------------------------------------------

def test_every_template_is_a_pair_with_a_version(app):
    for name in NAMES:
        assert (TEMPLATES / f"{name}.docx").is_file() and (TEMPLATES / f"{name}.html").is_file()
        assert len(documents.template_version(name)) == 12


@pytest.mark.parametrize("name", NAMES)
def test_both_twins_print_the_case_data(app, name):
    word, pdf = texts(name)
    for value in COMMON + EXPECTED[name]:
        value = words(value)
        assert value in word, f"{name}.docx lacks {value!r}"
        assert value in pdf, f"{name}.pdf lacks {value!r}"
    for text in (word, pdf):
        assert "{{" not in text and "{%" not in text and "}}" not in text and "%}" not in text
        assert "None" not in text and "Undefined" not in text
    assert len(PdfReader(io.BytesIO(sample_pair(name).pdf)).pages) <= 3


@pytest.mark.parametrize("name", NAMES)
def test_twins_render_the_same_bytes_twice(app, name):
    first, second = sample_pair(name), documents.render_pair(name, context(name))
    assert (first.docx, first.pdf, first.version) == (second.docx, second.pdf, second.version)
    assert file_store.sniff(first.docx) == file_store.DOCX and file_store.sniff(first.pdf) == file_store.PDF


@pytest.mark.parametrize("name", NAMES)
def test_empty_and_missing_values_print_as_empty(app, name):
    # A context with nothing but the case and the parties: every `data` value missing.
    pair = documents.render_pair(name, {"case": CASE, "applicant": APPLICANT, "specialist": SPECIALIST, "data": {}})
    assert_same_words(pair)
    for text in (docx_text(pair.docx), pdf_text(pair.pdf)):
        assert "ТП-2026-000123" in text and "None" not in text and "{{" not in text
    # The same with the nested values present but null, as JSON case data may hold them.
    nulls = {key: None for key in ("fee", "meter", "old_meter", "new_meter", "old_readings", "new_readings",
                                   "transfer_readings", "grid_works", "applicant_works", "connection_deadline")}
    for text in texts(name, **nulls):
        assert "None" not in text and "{{" not in text


@pytest.mark.parametrize("name", NAMES)
def test_markup_in_values_is_printed_as_text(app, name):
    applicant = {**APPLICANT, "full_name": ESCAPE_ME}
    ctx = context(name, applicant=applicant)
    assert ESCAPE_ME in docx_text(documents.render_docx(name, ctx))
    html = documents.render_html(name, ctx)
    assert "<b>Иван" not in html and "&lt;b&gt;Иван&lt;/b&gt; &amp; сын &#34;ООО&#34;" in html
    assert ESCAPE_ME in pdf_text(documents.render_pdf(name, ctx))


def test_dates_and_decimals_print_like_their_json_forms(app):
    typed = texts("tp_invoice", fee={**FEE, "amount": Decimal("12345.6"), "vat": Decimal("2226.24")},
                  invoice_due=date(2026, 5, 19))
    assert typed == texts("tp_invoice")


# --- what differs with the data -----------------------------------------------------------------------------

def test_contract_deadline_and_applicant_details_print_only_when_given(app):
    word, pdf = texts("tp_contract")
    for text in (word, pdf):
        assert "то есть до" not in text and "ИНН ," not in text
    legal = {**APPLICANT, "full_name": "ООО «Ромашка»", "kind": "legal_entity", "inn": "5036123456"}
    word, pdf = texts("tp_contract", applicant=legal, connection_deadline="2026-10-27",
                      fee={**FEE, "amount": "1234567.8", "vat": "222622.23"})
    for text in (word, pdf):
        assert "то есть до 27.10.2026 включительно" in text
        assert "ООО «Ромашка», ИНН 5036123456 (далее — Заявитель)" in text
        assert "юридическое лицо" in text and "физическое лицо" not in text
        assert "1 234 567,80 руб., в том числе НДС 222 622,23 руб." in text


def test_meter_replacement_mentions_askue_only_when_bound(app):
    for bound in (False, None):
        word, pdf = texts("meter_replacement_act", askue_bound=bound)
        assert "АИИС КУЭ" not in word and "АИИС КУЭ" not in pdf
        assert "Т2 (ночь) 021077,9" in word and "Т2 (ночь) 021077,9" in pdf


def test_reading_rows_repeat_per_zone(app):
    zones = [{"zone": f"Т{n}", "value": f"{n}000,5"} for n in (1, 2, 3)]
    word, pdf = texts("reassignment_contract", transfer_readings=zones)
    for text in (word, pdf):
        assert "Т1 1000,5 Т2 2000,5 Т3 3000,5" in text
    word, pdf = texts("reassignment_contract", transfer_readings=[])
    for text in (word, pdf):
        assert "Тарифная зона Показания, кВт·ч 3. Задолженность" in text


def test_complaint_refusal_and_final_appeal(app):
    refusal = "Показания прибора учёта за октябрь 2026 года в личный кабинет не поступали."
    word, pdf = texts("complaint_answer", decision="refuse", decision_text=refusal, recalculation_amount="")
    for text in (word, pdf):
        assert "в удовлетворении обращения отказано" in text and refusal in text
        assert "перерасчёт платы за" not in text and "корректирующей записью" not in text
        assert "один раз обжаловать" in text and "окончательным" not in text

    word, pdf = texts("complaint_answer", decision="refuse", decision_text=refusal, is_appeal=True)
    for text in (word, pdf):
        assert "Вашу жалобу на ранее принятое решение" in text
        assert "один раз обжаловать" not in text
        assert "является окончательным" in text and "в суд" in text


def test_complaint_text_is_quoted_as_written(app):
    complaint = 'Прошу пересчитать: «норматив» > показаний & <script>alert(1)</script>'
    word, pdf = texts("complaint_answer", complaint_text=complaint)
    assert complaint in word and complaint in pdf


# --- the generator ---------------------------------------------------------------------------------------------

def build_into(folder: Path) -> dict[str, bytes]:
    subprocess.run([sys.executable, str(TEMPLATES / "build_templates.py"), "--out", str(folder)], check=True,
                   cwd=ROOT, capture_output=True, timeout=300)
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_build_templates_is_reproducible_and_matches_the_committed_files(tmp_path):
    first, second = build_into(tmp_path / "first"), build_into(tmp_path / "second")
    assert first == second
    assert set(first) == {f"{name}{suffix}" for name in NAMES for suffix in documents.SUFFIXES} | {"demo_act.docx"}
    stale = [name for name, data in first.items() if (TEMPLATES / name).read_bytes() != data]
    assert not stale, f"rebuild the templates (docs_templates/build_templates.py): {stale} differ"
