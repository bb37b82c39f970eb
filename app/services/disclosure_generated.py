"""The disclosure items the portal makes from its own tables: the tariffs in force, the grid
connection applications by quarter, and the free capacity of substations.

Each generator gives a `Report` — captioned tables of plain values (str, int, Decimal, date) — that
the public page's partial, the PDF and the XLSX all print, so the three always say the same thing.
`snapshot` prints the PDF and publishes it as a version of the item, so the archive keeps what the
page showed on that day.

Connection statistics count what the cases say, no more: filed (the case was opened), contract
concluded (the invoice was paid: `contract_date` in the case data), connected (the case ended at
the diagram's `connected` end event), refused or annulled (it ended at any other end event, or was
cancelled), in progress (opened and not ended by the end of the quarter).
"""
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from flask_babel import force_locale, format_date, format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from sqlalchemy import func, or_, select
from sqlalchemy.orm import defer

from app.extensions import db
from app.models import Case, ConnectionRate, ProcessDefinition, Tariff
from app.models.disclosure import GENERATORS, DisclosureCategory, DisclosureDocument, DisclosureItem, SubstationCapacity
from app.services import connection_fees, disclosure, documents, tariffs
from app.services import disclosure_periods as periods
from app.services.errors import InvalidInput, NotFound
from app.services.periods import local_today
from app.services.resources import RESOURCES, ZONE_LABELS
from workflows import definitions, engine, properties, state

TP_PROCESS = "technological_connection"
CONNECTED_END = "connected"  # the end event of bpmn/technological_connection.bpmn where the grid is connected

# The same msgids as the staff's connection-rate page, so both read alike.
CONSUMER_CATEGORY_LABELS = {"population_urban": _l("Population in towns"),
                            "population_rural": _l("Population in the countryside"),
                            "other": _l("Other consumers")}
TARIFF_OPTION_LABELS = {1: _l("single-rate"), 2: _l("two zones"), 3: _l("three zones")}

POWER_CATEGORIES = (("up_to_15", _l("up to 15 kW")), ("up_to_150", _l("over 15 to 150 kW")),
                    ("from_150_to_670", _l("over 150 to 670 kW")), ("above_670", _l("over 670 kW")))
UNKNOWN_POWER = ("unknown", _l("maximum power not stated"))
STAGES = (("filed", _l("Applications filed")), ("contracts", _l("Contracts concluded")),
          ("connected", _l("Connections made")), ("ended", _l("Refused or annulled")),
          ("in_progress", _l("In progress at the end of the quarter")))

XLSX_FORMATS = {"count": "0", "price": "#,##0.00##", "mva": "#,##0.000", "date": "dd.mm.yyyy"}
PDF_TYPE = "application/pdf"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- what every generator gives -------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    label: object
    kind: str = "text"  # text | count | price | mva | date: how the value is formatted

    @property
    def numeric(self) -> bool:
        return self.kind in ("count", "price", "mva")


@dataclass(frozen=True)
class Table:
    caption: object
    sheet: str  # the XLSX sheet's name: short, unique in the report
    columns: tuple[Column, ...]
    rows: tuple[tuple, ...]
    totals: tuple | None = None  # a closing row; its first cell is the label
    empty: object = _l("Nothing to show.")


@dataclass(frozen=True)
class Report:
    generator: str
    title: object
    as_of: object  # a date, an aware datetime, or None when there is no data at all
    tables: tuple[Table, ...]
    notes: tuple = ()
    year: int | None = None  # tp_stats: the year shown, and the years there are data for
    years: tuple[int, ...] = field(default=())


def data_for(generator: str, year: int | None = None) -> Report:
    """What the public page's partial for the generator prints (`year` only matters for tp_stats)."""
    if generator == "tariffs":
        return tariffs_report()
    if generator == "tp_stats":
        return tp_stats_report(year)
    if generator == "free_capacity":
        return free_capacity_report()
    raise NotFound(_l("There is no such generated item."))


# --- tariffs in force -------------------------------------------------------------------------------

def _in_force_and_upcoming(rows: list, today: date) -> tuple[list, list]:
    """Of one series of dated rows (oldest first): the row in force today, and the rows set for later."""
    return [r for r in rows if r.valid_from <= today][-1:], [r for r in rows if r.valid_from > today]


def tariffs_report(today: date | None = None) -> Report:
    today = today or local_today()
    series = db.session.execute(select(Tariff.region, Tariff.category, Tariff.resource, Tariff.zones).distinct()
                                .order_by(Tariff.region, Tariff.category, Tariff.resource, Tariff.zones)).all()
    current, upcoming = [], []
    for region, category, resource, zones in series:
        now, later = _in_force_and_upcoming(tariffs.tariffs_for(region, category, resource, zones), today)
        current += [row for t in now for row in _tariff_rows(t)]
        upcoming += [row for t in later for row in _tariff_rows(t)]
    rates_now, rates_later = [], []
    by_series: dict[tuple[str, str], list[ConnectionRate]] = {}
    for rate in sorted(connection_fees.rate_rows(limit=None), key=lambda r: r.valid_from):
        by_series.setdefault((rate.category, rate.kind), []).append(rate)
    order = {code: n for n, code in enumerate([*connection_fees.CATEGORIES, *connection_fees.KINDS])}
    for key in sorted(by_series, key=lambda k: (order.get(k[0], 99), order.get(k[1], 99), k)):
        now, later = _in_force_and_upcoming(by_series[key], today)
        rates_now += [_rate_row(r) for r in now]
        rates_later += [_rate_row(r) for r in later]
    tariff_columns = (Column(_l("Consumer category")), Column(_l("Resource")), Column(_l("Tariff option")),
                      Column(_l("Zone")), Column(_l("Price, ₽ per unit"), "price"), Column(_l("Unit")),
                      Column(_l("Valid from"), "date"), Column(_l("Region")))
    rate_columns = (Column(_l("Applicant's category")), Column(_l("What it prices")),
                    Column(_l("Rate, ₽ with VAT"), "price"), Column(_l("Valid from"), "date"),
                    Column(_l("Decision of the regulator")))
    tables = [Table(_l("Tariffs in force on %(day)s", day=format_date(today, "long")), _("Tariffs"),
                    tariff_columns, tuple(current), empty=_l("No tariffs are entered."))]
    if upcoming:
        tables.append(Table(_l("Tariffs set from a later date"), _("Tariffs later"), tariff_columns, tuple(upcoming)))
    tables.append(Table(_l("Connection fee rates in force on %(day)s", day=format_date(today, "long")),
                        _("Connection rates"), rate_columns, tuple(rates_now), empty=_l("No rates are entered.")))
    if rates_later:
        tables.append(Table(_l("Connection fee rates set from a later date"), _("Connection rates later"),
                            rate_columns, tuple(rates_later)))
    return Report("tariffs", _l("Tariffs in force"), today, tuple(tables),
                  notes=(_l("Tariffs are set by the regulator; a tariff set from a later date replaces the one "
                            "in force on that date."),))


def _tariff_rows(tariff: Tariff) -> list[tuple]:
    resource = RESOURCES.get(tariff.resource)
    zones = ZONE_LABELS.get(tariff.zones, {})
    return [(CONSUMER_CATEGORY_LABELS.get(tariff.category, tariff.category),
             resource.label if resource else tariff.resource, TARIFF_OPTION_LABELS.get(tariff.zones, tariff.zones),
             zones.get(zone, zone), Decimal(tariff.price(zone)), resource.unit if resource else "", tariff.valid_from,
             tariff.region)
            for zone in ("T1", "T2", "T3")[:tariff.zones] if tariff.price(zone) is not None]


def _rate_row(rate: ConnectionRate) -> tuple:
    return (connection_fees.CATEGORY_LABELS.get(rate.category, rate.category),
            connection_fees.KIND_LABELS.get(rate.kind, rate.kind),
            Decimal(rate.amount), rate.valid_from, rate.note or "")


# --- connection applications by quarter ----------------------------------------------------------------

def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def _local_day(moment: datetime | None) -> date | None:
    return moment.astimezone(_zone()).date() if moment is not None else None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=_zone())


def _power_category(data: dict) -> str:
    try:
        power = Decimal(str(data.get("max_power")))
    except (InvalidOperation, ValueError, TypeError):
        return UNKNOWN_POWER[0]
    if not power.is_finite() or power <= 0:
        return UNKNOWN_POWER[0]
    for code, limit in connection_fees.LIMITS.items():
        if power <= limit:
            return code
    return "above_670"


def _application_data(case: Case) -> dict:
    """The case data. A finished workflow keeps it on the workflow (cheap to read); a running one
    has it on its tasks, which only the engine reads."""
    data = state.data_of(case.state)
    return data if "max_power" in data else {**engine.case_data(case), **data}


def _connected_labels(definition: ProcessDefinition, cache: dict) -> tuple[str | None, frozenset]:
    """The status label the `connected` end event gives a case, and the labels of the other end events."""
    if definition.id not in cache:
        spec = definitions.specs(definition.id, definition.sha256).spec
        ends = {name: properties.of(s).status_label for name, s in spec.task_specs.items()
                if type(s).__name__ == "EndEvent"}
        cache[definition.id] = (ends.get(CONNECTED_END),
                                frozenset(label for name, label in ends.items() if name != CONNECTED_END and label))
    return cache[definition.id]


def _connected(case: Case, cache: dict) -> bool:
    if case.status != "closed":
        return False
    connected, others = _connected_labels(case.definition, cache)
    if connected:
        return case.status_label == connected
    return case.status_label not in others  # the end event has no label of its own: the engine's default


@dataclass(frozen=True)
class _Application:
    power: str
    opened: date
    ended: date | None
    connected: bool
    contract: date | None


def _applications(first: date, last: date) -> list[_Application]:
    """Connection cases that matter for the days first..last: opened by then and not ended before."""
    # The state is loaded only for the cases whose facts are not known at their current version.
    cases = db.session.scalars(
        select(Case).join(ProcessDefinition, Case.definition_id == ProcessDefinition.id)
        .where(ProcessDefinition.key == TP_PROCESS, Case.opened_at < _start_of(last + timedelta(days=1)),
               or_(Case.closed_at.is_(None), Case.closed_at >= _start_of(first), Case.status == "open"))
        .options(defer(Case.state)).order_by(Case.id)).all()
    cache, found = {}, []
    for case in cases:
        power, contract = _facts(case)
        ended = None
        if case.status != "open":
            ended = _local_day(case.closed_at or case.opened_at)
        found.append(_Application(power, _local_day(case.opened_at), ended, _connected(case, cache), contract))
    return found


# A case's power category and contract date, by (id, version, opening moment): a version changes with
# every step, so a known entry is right, and the public page (asked by anyone, any number of times)
# reads a case's state once per step instead of on every view — a running case's data needs the engine.
_FACTS: dict[tuple, tuple[str, date | None]] = {}
_FACTS_KEPT = 50_000


def _facts(case: Case) -> tuple[str, date | None]:
    key = (case.id, case.version, case.opened_at)
    known = _FACTS.get(key)
    if known is not None:
        return known
    data = _application_data(case)
    contract = None
    try:
        contract = date.fromisoformat(str(data["contract_date"])[:10]) if data.get("contract_date") else None
    except ValueError:
        pass
    if len(_FACTS) >= _FACTS_KEPT:
        _FACTS.clear()
    _FACTS[key] = known = (_power_category(data), contract)
    return known


def tp_years(today: date | None = None) -> tuple[int, ...]:
    """The years with connection applications, up to this year: the choice of years on the page."""
    today = today or local_today()
    first = db.session.scalar(select(func.min(Case.opened_at))
                              .join(ProcessDefinition, Case.definition_id == ProcessDefinition.id)
                              .where(ProcessDefinition.key == TP_PROCESS))
    start = min(_local_day(first).year, today.year) if first is not None else today.year
    return tuple(range(start, today.year + 1))


def tp_stats_report(year: int | None = None, until: date | None = None, today: date | None = None) -> Report:
    """The applications of a year by quarter: rows by power category, columns by stage. Quarters not
    begun by `until` (default today) are left out; one not over yet counts "in progress" as of today."""
    today = today or local_today()
    year = year or today.year
    if not 1990 <= year <= today.year:
        raise NotFound(_l("There are no statistics for that year."))
    until = min(until or today, today)
    quarters = [periods.parse(f"{year}-Q{n}") for n in range(1, 5)]
    quarters = [q for q in quarters if q.start <= until]
    applications = _applications(quarters[0].start, min(quarters[-1].end, until)) if quarters else []
    categories = list(POWER_CATEGORIES)
    if any(a.power == UNKNOWN_POWER[0] for a in applications):
        categories.append(UNKNOWN_POWER)
    columns = (Column(_l("Maximum power")), *(Column(label, "count") for _code, label in STAGES))
    tables = []
    for quarter in quarters:
        end = min(quarter.end, until)
        counts = {code: dict.fromkeys((s for s, _label in STAGES), 0) for code, _label in categories}
        for a in applications:
            row = counts[a.power]
            row["filed"] += quarter.start <= a.opened <= quarter.end
            row["contracts"] += a.contract is not None and quarter.start <= a.contract <= quarter.end
            closed_here = a.ended is not None and quarter.start <= a.ended <= quarter.end
            row["connected"] += closed_here and a.connected
            row["ended"] += closed_here and not a.connected
            row["in_progress"] += a.opened <= end and (a.ended is None or a.ended > end)
        stages = [code for code, _label in STAGES]
        rows = tuple((label, *(counts[code][s] for s in stages)) for code, label in categories)
        totals = (_l("Total"), *(sum(counts[code][s] for code, _label in categories) for s in stages))
        caption = quarter.label()
        if end < quarter.end:
            caption = _("%(quarter)s (not over yet: as of %(day)s)", quarter=caption, day=format_date(end, "long"))
        sheet = f"{periods.ROMAN[(quarter.start.month - 1) // 3 + 1]} {year}"
        tables.append(Table(caption, sheet, columns, rows, totals))
    return Report("tp_stats", _l("Grid connection applications by quarter, %(year)s", year=year),
                  until if quarters else None, tuple(tables),
                  notes=(_l("Applications filed through the portal, by the maximum power applied for. A contract is "
                            "concluded when the applicant pays the invoice. “Refused or annulled” are applications "
                            "ended without connection: the applicant refused the contract, or the application was "
                            "annulled because the documents or the payment did not come in time."),),
                  year=year, years=tp_years(today))


# --- free capacity of substations ----------------------------------------------------------------------

def free_capacity_report() -> Report:
    rows = db.session.scalars(select(SubstationCapacity)
                              .order_by(SubstationCapacity.substation, SubstationCapacity.voltage)).all()
    columns = (Column(_l("Substation")), Column(_l("Voltage")), Column(_l("Installed capacity, MVA"), "mva"),
               Column(_l("Maximum load, MVA"), "mva"), Column(_l("Reserved by contracts, MVA"), "mva"),
               Column(_l("Free capacity, MVA"), "mva"), Column(_l("Note")))
    values = tuple((r.substation, r.voltage, Decimal(r.installed_mva), Decimal(r.max_load_mva),
                    Decimal(r.reserved_mva or 0), Decimal(r.free_mva), r.note or "") for r in rows)
    totals = None
    if values:
        totals = (_l("Total"), "", *(sum((v[i] for v in values), Decimal(0)) for i in range(2, 6)), "")
    as_of = max((r.updated_at for r in rows), default=None)
    table = Table(_l("Free transformer capacity of substations by voltage level"), _("Free capacity"), columns,
                  values, totals, empty=_l("The operators have not entered the substations yet."))
    return Report("free_capacity", _l("Free capacity of substations"), as_of, (table,),
                  notes=(_l("Free capacity is what is left of the installed transformer capacity after the maximum "
                            "load and the capacity reserved by connection contracts not yet carried out."),))


# --- files ---------------------------------------------------------------------------------------------

def as_of_text(report: Report) -> str:
    if report.as_of is None:
        return ""
    when = (format_datetime(report.as_of, "short") if isinstance(report.as_of, datetime)
            else format_date(report.as_of, "long"))
    return _("As of %(when)s", when=when)


def report_for_file(generator: str, year: int | None = None, until: date | None = None) -> Report:
    """The report as the PDF and XLSX print it: in the documents' language."""
    with force_locale(documents.document_locale()):
        return _report(generator, year, until)


def render_pdf(generator: str, year: int | None = None, until: date | None = None,
               report: Report | None = None) -> bytes:
    """The report as a PDF in the documents' language (Russian), printed with WeasyPrint."""
    with force_locale(documents.document_locale()):
        report = report or _report(generator, year, until)
        html = render_template("disclosure/generated/pdf.html", report=report, as_of=as_of_text(report),
                               company=current_app.config["COMPANY_NAME"],
                               printed=format_datetime(datetime.now(_zone()), "short"))
    return documents.html_to_pdf(html)


def render_xlsx(generator: str, year: int | None = None, until: date | None = None,
                report: Report | None = None) -> bytes:
    """The report as a workbook, a sheet per table: the caption, the header, the rows and the totals;
    numbers and dates as typed cells, text always as text (never a formula)."""
    with force_locale(documents.document_locale()):
        report = report or _report(generator, year, until)
        workbook = Workbook(write_only=True)
        taken = set()
        for table in report.tables:
            sheet = workbook.create_sheet(_sheet_name(table.sheet, taken))
            bold = Font(bold=True)
            sheet.append([_cell(sheet, str(table.caption), font=bold)])
            if report.as_of is not None:
                sheet.append([_cell(sheet, as_of_text(report))])
            sheet.append([_cell(sheet, str(c.label), font=bold) for c in table.columns])
            for row in table.rows:
                sheet.append([_cell(sheet, value, column) for value, column in zip(row, table.columns)])
            if table.totals:
                sheet.append([_cell(sheet, value, column, font=bold)
                              for value, column in zip(table.totals, table.columns)])
        if not report.tables:
            workbook.create_sheet(_sheet_name(str(report.title), taken)).append([str(report.title)])
        out = io.BytesIO()
        workbook.save(out)
    return out.getvalue()


def _report(generator: str, year: int | None, until: date | None) -> Report:
    if generator == "tp_stats":
        return tp_stats_report(year, until=until)
    return data_for(generator)


def _sheet_name(name: str, taken: set) -> str:
    base = "".join(ch for ch in name if ch not in "[]:*?/\\")[:28] or "data"
    candidate, n = base, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{base[:28 - len(str(n))]} {n}"
    taken.add(candidate.lower())
    return candidate


def _cell(sheet, value, column: Column | None = None, font=None):
    if value is None or value == "":
        cell = WriteOnlyCell(sheet, None)
    elif isinstance(value, (bool, int, Decimal)) or isinstance(value, (date, datetime)):
        if isinstance(value, datetime):
            value = value.astimezone(_zone()).replace(tzinfo=None)
        cell = WriteOnlyCell(sheet, value)
        kind = column.kind if column else "text"
        if kind in XLSX_FORMATS:
            cell.number_format = XLSX_FORMATS[kind]
        elif isinstance(value, date):
            cell.number_format = XLSX_FORMATS["date"]
    else:
        cell = WriteOnlyCell(sheet, ILLEGAL_CHARACTERS_RE.sub("", str(value)))
        cell.data_type = "s"  # text stays text: "=..." typed in a note must not become a formula
    if font is not None:
        cell.font = font
    return cell


def file_name(generator: str, fmt: str, day: date | None = None, year: int | None = None) -> str:
    """tariffs-2026-11-22.pdf, tp-stats-2025-2026-11-22.xlsx: ASCII only, safe in any header."""
    day = day or local_today()
    stem = generator.replace("_", "-") + (f"-{year}" if year else "")
    return f"{stem}-{day.isoformat()}.{fmt}"


# --- publishing a snapshot ----------------------------------------------------------------------------

def snapshot_due(today: date | None = None) -> int:
    """The schedule's part: each generated item of a periodic category gets its snapshot for the last
    period that is over, once (an item that has one covering that period is left alone)."""
    today = today or local_today()
    items = db.session.scalars(select(DisclosureItem).join(DisclosureItem.category).where(
        DisclosureItem.generator.in_(GENERATORS), DisclosureCategory.periodicity.in_(periods.PERIODIC))).all()
    latest = disclosure.latest_by_item(i.id for i in items)
    made = 0
    for item in items:
        owed = periods.last_ended(item.category.periodicity, today)
        doc = latest.get(item.id)
        if doc is not None and doc.withdrawn_at is None and doc.period_end is not None and doc.period_end >= owed.end:
            continue
        snapshot(item, None, today=today, system=True)
        made += 1
    return made


def snapshot(item: DisclosureItem, user, today: date | None = None, system: bool = False) -> DisclosureDocument:
    """Print the item's report as a PDF and publish it as the item's new version. The period is the one
    of the category's periodicity that the data covers: the last period over (a quarterly category on
    22.11.2026: 2026-Q3, and the statistics stop at its end); none for "on change" and "once"."""
    if item.generator not in GENERATORS:
        raise InvalidInput(_l("This item is published by uploading a file; it has nothing to generate."))
    category = item.category
    if not system:
        disclosure.require_publisher(user, category, item)  # before the render: a refusal costs nothing
    today = today or local_today()
    covered = periods.last_ended(category.periodicity, today) if category.periodicity in periods.PERIODIC else None
    year = until = None
    if item.generator == "tp_stats":
        year, until = (covered.end.year, covered.end) if covered else (today.year, today)
    data = render_pdf(item.generator, year=year, until=until)
    with force_locale(documents.document_locale()):
        when = covered.label() if covered else today.strftime("%d.%m.%Y")
    return disclosure.publish(item, data=data, filename=file_name(item.generator, "pdf", today, year),
                              user=user, seen_revision=item.revision, title=f"{item.title_ru} ({when})",
                              period=covered.code if covered else None,
                              note=f"Сформировано порталом из его данных {today.strftime('%d.%m.%Y')}",
                              system=system)
