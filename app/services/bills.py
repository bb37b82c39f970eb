"""The monthly bill of an account (ЕПД-style): what was charged and why, the balance, and how to pay,
as a PDF with the ГОСТ Р 56042-2014 payment QR code.

A bill exists only for a period the monthly close has finished for the account; everything on it is
read from what the close wrote (accrual lines with the readings they used, ledger entries), so a
bill printed again later shows the same figures.
"""
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import segno
from flask import current_app
from flask_babel import format_date, format_decimal, get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import Account, AccountPeriod, Accrual, LedgerEntry, Meter, Tariff
from app.services import consumption, documents, ledger
from app.services.errors import NotFound
from app.services.periods import last_day, local_date
from app.services.resources import RESOURCES, zone_label

ZERO = Decimal("0.00")
TEMPLATE = "bill.html"
QR_SIZE_MM = 36  # quiet zone included; the code itself stays well above the 20 mm minimum

BASIS_LABELS = {
    "reading": _l("reading"),
    "average": _l("average"),
    "normative": _l("normative"),
    "recalculation": _l("recalculation"),
    "correction": _l("correction"),
}
BASIS_ORDER = {basis: n for n, basis in enumerate(BASIS_LABELS)}
CHARGES = ("charge", "correction")

# The payment purpose goes to the bank as it is, so it is Russian whatever the reader's language.
PURPOSE_RESOURCES = {"electricity": "электроэнергии", "heat": "тепловой энергии", "hot_water": "горячей воды"}


@dataclass(frozen=True)
class ZoneReading:
    zone: str
    previous: Decimal
    current: Decimal
    used: Decimal


@dataclass
class MeterUse:
    """A meter on the bill and the readings its consumption was computed from (none when estimated)."""

    meter: Meter
    basis: str  # reading | average | normative | recalculation | correction: how this period was billed
    previous_on: date | None = None
    current_on: date | None = None
    zones: list[ZoneReading] = field(default_factory=list)

    def zone_label(self, zone: str) -> str:
        return zone_label(self.meter.zones, zone)


@dataclass
class Bill:
    account: Account
    period: date  # first day of the month
    lines: list[Accrual]
    meters: list[MeterUse]
    opening_balance: Decimal  # owed at the start of the period (negative: paid ahead)
    charged: Decimal
    penalties: Decimal
    paid: Decimal  # payments booked within the period, as a positive number
    total_due: Decimal  # owed at the end of the period (negative: overpayment)
    due_date: date
    issued_on: date
    # Zone count of the tariff each line was priced by: a normative line of a two-zone meter is
    # priced at the single rate and is named so.
    tariff_zones: dict[int, int] = field(default_factory=dict, repr=False)

    @property
    def to_pay(self) -> Decimal:
        return max(self.total_due, ZERO)

    @property
    def overpayment(self) -> Decimal:
        return max(-self.total_due, ZERO)

    @property
    def lines_total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    def zone_label(self, line: Accrual) -> str:
        zones = self.tariff_zones.get(line.tariff_id)
        if zones is None:
            meter = next((m.meter for m in self.meters if m.meter.id == line.meter_id), None)
            zones = meter.zones if meter is not None else 1
        return zone_label(zones, line.zone) if line.zone in ("T1", "T2", "T3")[:zones] else line.zone


def bill_for(account: Account, period: date, issued_on: date | None = None) -> Bill:
    """The bill of a closed period; NotFound when the close has not reached this account yet.

    `issued_on` defaults to the local day the period was closed for the account, so a reprint
    carries the original date.
    """
    period = period.replace(day=1)
    closed = db.session.get(AccountPeriod, (account.id, period))
    if closed is None:
        raise NotFound(_l("There is no bill for %(period)s yet: the period is not closed.",
                          period=f"{period:%m.%Y}"))
    start, end = period, last_day(period)
    lines = list(db.session.scalars(select(Accrual).where(Accrual.account_id == account.id,
                                                          Accrual.period == period)))
    meters = {m.id: m for m in db.session.scalars(
        select(Meter).where(Meter.id.in_({a.meter_id for a in lines if a.meter_id is not None})))}
    resource_order = {code: n for n, code in enumerate(RESOURCES)}
    lines.sort(key=lambda a: (resource_order.get(a.resource, len(resource_order)), a.resource,
                              a.meter_id is None, a.meter_id or 0, a.zone, BASIS_ORDER.get(a.basis, 99),
                              (a.details or {}).get("for_period", ""), a.id))
    tariff_ids = {a.tariff_id for a in lines if a.tariff_id is not None}
    tariff_zones = dict(db.session.execute(select(Tariff.id, Tariff.zones).where(Tariff.id.in_(tariff_ids))).all())

    entries = list(db.session.scalars(select(LedgerEntry).where(LedgerEntry.account_id == account.id,
                                                                LedgerEntry.booked_on <= end)))
    # Opening entries carry a balance over from before the portal, whenever they were booked.
    before = [e for e in entries if e.booked_on < start or e.kind == "opening"]
    within = [e for e in entries if e.booked_on >= start and e.kind != "opening"]
    issued_on = issued_on or local_date(closed.closed_at)
    return Bill(
        account=account, period=period, lines=lines,
        meters=_meter_uses(lines, meters),
        opening_balance=_balance(before),
        charged=sum((e.amount for e in within if e.kind in CHARGES), ZERO),
        penalties=sum((e.amount for e in within if e.kind == "penalty"), ZERO),
        paid=-sum((e.amount for e in within if e.kind == "payment"), ZERO),
        total_due=_balance(entries),
        due_date=closed.due_date, issued_on=issued_on, tariff_zones=tariff_zones)


def _balance(entries: list[LedgerEntry]) -> Decimal:
    return ledger.allocate([ledger.Entry(e.id, e.kind, e.amount, e.booked_on, e.period, e.due_date,
                                         e.chosen_period, e.for_penalties) for e in entries]).balance


def _meter_uses(lines: list[Accrual], meters: dict[int, Meter]) -> list[MeterUse]:
    uses: dict[int, MeterUse] = {}
    for line in lines:
        meter = meters.get(line.meter_id)
        if meter is None:
            continue
        use = uses.setdefault(meter.id, MeterUse(meter, line.basis))
        details = line.details or {}
        if line.basis != "reading" or "current" not in details or use.zones:
            continue
        # The close records the two readings it used on every reading line of the meter.
        use.basis = "reading"
        use.previous_on = date.fromisoformat(details["previous_on"])
        use.current_on = date.fromisoformat(details["current_on"])
        for zone in meter.zone_names:
            previous, current = Decimal(details["previous"][zone]), Decimal(details["current"][zone])
            use.zones.append(ZoneReading(zone, previous, current,
                                         consumption.delta(previous, current, meter.rollover)))
    return list(uses.values())


def _clean(value: object) -> str:
    # "|" separates the fields and a line break would end the text for some readers.
    return " ".join(str(value).replace("|", "/").split())


def payment_purpose(bill: Bill) -> str:
    codes = [c for c in dict.fromkeys(line.resource for line in bill.lines) if c in PURPOSE_RESOURCES]
    what = ", ".join(PURPOSE_RESOURCES[c] for c in codes) or "энергоресурсов"
    return f"Оплата {what} за {bill.period:%m.%Y}, л/с {bill.account.number}"


def payment_qr_text(bill: Bill) -> str:
    """The ГОСТ Р 56042-2014 payment string (UTF-8 flavour, ST00012) that banking apps read."""
    cfg = current_app.config
    fields = [
        ("Name", cfg["COMPANY_NAME"]),
        ("PersonalAcc", cfg["COMPANY_ACCOUNT"]),
        ("BankName", cfg["COMPANY_BANK"]),
        ("BIC", cfg["COMPANY_BIC"]),
        ("CorrespAcc", cfg["COMPANY_CORR_ACCOUNT"]),
        ("PayeeINN", cfg["COMPANY_INN"]),
        ("KPP", cfg["COMPANY_KPP"]),
    ]
    if bill.to_pay > 0:
        fields.append(("Sum", int((bill.to_pay * 100).to_integral_value())))
    fields += [
        ("Purpose", payment_purpose(bill)),
        ("PersAcc", bill.account.number),
        ("PaymPeriod", f"{bill.period:%m%Y}"),
        ("TechCode", "02"),
    ]
    return "|".join(["ST00012"] + [f"{key}={_clean(value)}" for key, value in fields if value not in (None, "")])


def payment_qr_data_uri(bill: Bill) -> str:
    # Byte mode in UTF-8 without an ECI header: that is what ST00012 announces and banks expect.
    qr = segno.make(payment_qr_text(bill), error="m", encoding="utf-8", micro=False, boost_error=False)
    return qr.svg_data_uri(scale=1, border=4, omitsize=True)


def money(value: Decimal | None) -> str:
    return "" if value is None else format_decimal(value, format="#,##0.00")


def quantity(value: Decimal | None) -> str:
    return "" if value is None else format_decimal(value, format="#,##0.###")


def price(value: Decimal | None) -> str:
    return "" if value is None else format_decimal(value, format="#,##0.00##")


def render_html(bill: Bill) -> str:
    cfg = current_app.config
    company = {key.removeprefix("COMPANY_").lower(): cfg[key] for key in cfg if key.startswith("COMPANY_")}
    return documents.template_env().get_template(TEMPLATE).render(
        bill=bill, company=company, lang=str(get_locale() or cfg["BABEL_DEFAULT_LOCALE"]),
        period_label=format_date(bill.period, "LLLL yyyy"),
        qr_data_uri=payment_qr_data_uri(bill), qr_size_mm=QR_SIZE_MM, purpose=payment_purpose(bill),
        resources=RESOURCES, basis_labels=BASIS_LABELS,
        money=money, quantity=quantity, price=price, day=lambda d: format_date(d, "dd.MM.yyyy") if d else "",
    )


def render_pdf(bill: Bill) -> bytes:
    return documents.html_to_pdf(render_html(bill))
