"""Demo information disclosure: the seeded taxonomy published in by the legal group (a few documents,
one of them corrected so the archive has a version), some categories left unpublished so the
deadline dashboard has something to show, and the operators' table of substations' free capacity."""
from decimal import Decimal
from html import escape

from sqlalchemy import select

from app.extensions import db
from app.models import DisclosureCategory, DisclosureDocument, DisclosureItem, StaffGroup, SubstationCapacity
from app.services import disclosure, users

# (category code, item code, period, title, lines of the document); the first is published twice.
DOCUMENTS = [
    ("financial-statements", "statements", "2025", "Бухгалтерская отчётность за 2025 год",
     ["Бухгалтерский баланс на 31.12.2025", "Актив: 4 812 306 тыс. руб.", "Выручка: 2 944 120 тыс. руб."]),
    ("financial-statements", "statements", "2025", "Бухгалтерская отчётность за 2025 год (исправленная)",
     ["Бухгалтерский баланс на 31.12.2025, исправленная редакция", "Актив: 4 812 306 тыс. руб.",
      "Выручка: 2 951 884 тыс. руб."]),
    ("financial-statements", "audit-report", "2025", "Аудиторское заключение за 2025 год",
     ["Аудиторское заключение о бухгалтерской отчётности за 2025 год", "Мнение: без оговорок."]),
    ("cost-structure", "costs", "2025", "Структура и объём затрат за 2025 год",
     ["Оплата труда: 812 тыс. руб.", "Амортизация: 455 тыс. руб.", "Ремонт: 301 тыс. руб."]),
    ("tp-contract-forms", "up-to-15", None, "Типовой договор об осуществлении ТП (до 15 кВт)",
     ["Типовой договор об осуществлении технологического присоединения к электрическим сетям",
      "для заявителей с максимальной мощностью до 15 кВт включительно"]),
    ("tp-contract-forms", "up-to-150", None, "Типовой договор об осуществлении ТП (до 150 кВт)",
     ["Типовой договор об осуществлении технологического присоединения", "от 15 до 150 кВт включительно"]),
    ("investment-programme", "programme", "2026", "Инвестиционная программа на 2026 год",
     ["Реконструкция ПС 110/10 кВ «Северная»: 120 млн руб.", "Строительство ВЛ 10 кВ Ф-14: 34 млн руб."]),
    ("control-measurements", "measurements", "2026-H1", "Результаты контрольных замеров, июнь 2026",
     ["Контрольный замер 17.06.2026, 04:00 и 11:00", "ПС «Северная»: 18,4 МВт; ПС «Южная»: 9,7 МВт"]),
    ("reliability", "indicators", "2025", "Показатели надёжности и качества за 2025 год",
     ["SAIDI: 2,1 ч", "SAIFI: 1,3", "Показатель качества обслуживания: 0,97"]),
]

SUBSTATIONS = [
    ("ПС 110/10 кВ «Северная»", "110/10 кВ", "80", "51.2", "6.4", "14.4"),
    ("ПС 110/10 кВ «Северная»", "10 кВ", "80", "51.2", "6.4", "10.0"),
    ("ПС 35/10 кВ «Южная»", "35/10 кВ", "32", "19.7", "2.1", "6.2"),
    ("ПС 35/10 кВ «Лаговская»", "35/10 кВ", "20", "17.9", "1.5", "0"),
]


def seed() -> int:
    disclosure.seed_taxonomy()
    legal = users.by_email("legal@gridcase.example")
    group_id = db.session.scalar(select(StaffGroup.id).where(StaffGroup.code == "legal"))
    for category in db.session.scalars(select(DisclosureCategory)):
        if category.publisher_group_id is None:
            category.publisher_group_id = group_id
        if category.responsible_id is None and legal is not None:
            category.responsible_id = legal.id
    if not db.session.scalar(select(SubstationCapacity.id).limit(1)):
        for substation, voltage, installed, load, reserved, free in SUBSTATIONS:
            db.session.add(SubstationCapacity(substation=substation, voltage=voltage, installed_mva=Decimal(installed),
                                              max_load_mva=Decimal(load), reserved_mva=Decimal(reserved),
                                              free_mva=Decimal(free)))
    db.session.commit()
    if legal is None or db.session.scalar(select(DisclosureDocument.id).limit(1)) is not None:
        return 0
    from weasyprint import HTML

    for number, (category_code, item_code, period, title, lines) in enumerate(DOCUMENTS):
        item = db.session.scalar(select(DisclosureItem).join(DisclosureItem.category).where(
            DisclosureCategory.code == category_code, DisclosureItem.code == item_code))
        body = "".join(f"<p>{escape(line)}</p>" for line in lines)
        pdf = HTML(string=f"<h1>{escape(title)}</h1>{body}<p>АО «ГридКейс Энерго»</p>").write_pdf()
        disclosure.publish(item, data=pdf, filename=f"{category_code}-{number + 1}.pdf", user=legal,
                           seen_revision=item.revision, title=title, period=period)
    return len(DOCUMENTS)
