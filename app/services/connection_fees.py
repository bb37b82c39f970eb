"""Technological connection (ПП РФ № 861): the applicant's category, the fee and the connection term.

Categories by maximum power (new plus already connected): `up_to_15` — individuals for household use
up to 15 kW inclusive; `up_to_150` — up to 150 kW; `from_150_to_670` — above 150 and up to 670 kW.
Above 670 kW is not filed through the personal account.

The fee (rates are the dated rows of `connection_rate`, in force on the filing day):
- up to 15 kW at 0.4 kV, III reliability category, within `TP_PREFERENTIAL_DISTANCE_URBAN_M` in a town
  (`..._RURAL_M` in the country): the lower of the standardised cost and the preferential rate per kW;
  for privileged applicants the privileged rate per kW;
- otherwise the standardised cost: the rate per kW of the category times the power, plus the rate per
  km of the category times the distance to the grid.
Rates include VAT; the VAT part is `VAT_RATE` percent of the net amount.

The connection term counts from the contract date (п.16); the distances and voltages that decide it
are settings, since the rules' thresholds are not all confirmed (`docs` of the settings in
.env.example).
"""
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import ConnectionRate
from app.services import work_calendar
from app.services.errors import Conflict, InvalidInput

CENT = Decimal("0.01")
LIMITS = {"up_to_15": Decimal(15), "up_to_150": Decimal(150), "from_150_to_670": Decimal(670)}
# What a rate prices, and the applicants' categories by maximum power: for the rates page and the
# disclosed tariffs alike.
KIND_LABELS = {"standard_per_kw": _l("Standardised rate per kW"), "standard_per_km": _l("Standardised rate per km of line"),
               "preferential_per_kw": _l("Preferential rate per kW"), "privileged_per_kw": _l("Privileged applicants, per kW")}
CATEGORY_LABELS = {"up_to_15": _l("Up to 15 kW (individuals)"), "up_to_150": _l("Up to 150 kW"),
                   "from_150_to_670": _l("150 to 670 kW")}


@dataclass(frozen=True)
class Fee:
    amount: Decimal
    vat: Decimal
    basis: str  # how it was computed, printed in the contract


@dataclass(frozen=True)
class Term:
    value: int
    unit: str  # working_days | months
    text: str  # «30 рабочих дней», «6 месяцев»

    def deadline(self, contract_date: date) -> date:
        if self.unit == "working_days":
            return work_calendar.add_working_days(contract_date, self.value)
        return contract_date + relativedelta(months=self.value)


def category(kind: str, max_power_kw: Decimal, household: bool = True) -> str:
    """The applicant's category; InvalidInput (field `max_power_kw`) above what can be filed online."""
    if max_power_kw <= 0:
        raise InvalidInput(_l("The maximum power must be more than zero."), field="max_power")
    if kind == "individual" and household and max_power_kw <= LIMITS["up_to_15"]:
        return "up_to_15"
    if max_power_kw <= LIMITS["up_to_150"]:
        return "up_to_150"
    if max_power_kw <= LIMITS["from_150_to_670"]:
        return "from_150_to_670"
    raise InvalidInput(_l("Above 670 kW an application is filed at the customer office, not online."),
                       field="max_power")


def _rates(on: date) -> dict[tuple[str, str], Decimal]:
    """The rates in force on a day: for each (kind, category) the latest row not after it."""
    rows = db.session.scalars(select(ConnectionRate).where(ConnectionRate.valid_from <= on)
                              .order_by(ConnectionRate.valid_from))
    return {(r.kind, r.category): Decimal(r.amount) for r in rows}


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _within_preferential_distance(distance_m: int, area: str) -> bool:
    cfg = current_app.config
    limit = cfg["TP_PREFERENTIAL_DISTANCE_RURAL_M"] if area == "rural" else cfg["TP_PREFERENTIAL_DISTANCE_URBAN_M"]
    return distance_m <= limit


def fee(category_code: str, power_kw: Decimal, distance_m: int, area: str, voltage_kv: Decimal,
        reliability: str, privileged: bool, on: date) -> Fee:
    rates = _rates(on)

    def rate(kind: str) -> Decimal:
        found = rates.get((kind, category_code))
        if found is None:  # the specialist is told; the task waits until an analyst adds the rate
            raise Conflict(_l("No connection fee rate of this kind is in force on %(day)s for the applicant's "
                              "category: an analyst adds it under Connection rates.", day=on.strftime("%d.%m.%Y")))
        return found

    km = (Decimal(distance_m) / 1000).quantize(Decimal("0.001"))
    standard = _money(rate("standard_per_kw") * power_kw + rate("standard_per_km") * km)
    basis = f"стандартизированные ставки: {rate('standard_per_kw')} ₽/кВт, {rate('standard_per_km')} ₽/км"
    amount = standard
    if (category_code == "up_to_15" and voltage_kv <= Decimal("0.4") and reliability == "III"
            and _within_preferential_distance(distance_m, area)):
        if privileged:
            amount = _money(rate("privileged_per_kw") * power_kw)
            basis = f"льготная ставка для отдельных категорий заявителей: {rate('privileged_per_kw')} ₽/кВт"
        else:
            preferential = _money(rate("preferential_per_kw") * power_kw)
            if preferential < standard:
                amount = preferential
                basis = f"льготная ставка: {rate('preferential_per_kw')} ₽/кВт"
    vat_rate = Decimal(current_app.config["VAT_RATE"])
    vat = _money(amount * vat_rate / (100 + vat_rate))
    return Fee(amount, vat, basis)


def term(category_code: str, power_kw: Decimal, voltage_kv: Decimal, distance_m: int, area: str) -> Term:
    cfg = current_app.config
    if power_kw <= LIMITS["up_to_150"] and voltage_kv <= Decimal("0.4") and distance_m <= cfg["TP_SHORT_DISTANCE_M"]:
        return Term(30, "working_days", "30 рабочих дней")
    town_or_country = cfg["TP_PREFERENTIAL_DISTANCE_RURAL_M"] if area == "rural" else cfg["TP_PREFERENTIAL_DISTANCE_URBAN_M"]
    if power_kw <= LIMITS["up_to_150"] and voltage_kv <= 20 and distance_m <= town_or_country:
        months = cfg["TP_TERM_SMALL_MONTHS"]
        return Term(months, "months", f"{months} {_months(months)}")
    return Term(12, "months", "1 год")


def _months(n: int) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return "месяц"
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return "месяца"
    return "месяцев"


KINDS = ("standard_per_kw", "standard_per_km", "preferential_per_kw", "privileged_per_kw")
CATEGORIES = tuple(LIMITS)


def rate_rows(limit: int = 200) -> list[ConnectionRate]:
    return list(db.session.scalars(select(ConnectionRate).order_by(ConnectionRate.valid_from.desc(),
                                                                   ConnectionRate.category, ConnectionRate.kind)
                                   .limit(limit)))


def add_rate(actor, valid_from: date, kind: str, category_code: str, amount: Decimal, note: str | None) -> ConnectionRate:
    """A new rate from a date: earlier rows stay, so applications filed before keep their fee."""
    from app.services import audit

    if kind not in KINDS or category_code not in CATEGORIES:
        raise InvalidInput(_l("Choose what the rate prices and for which category."))
    if amount is None or amount < 0:
        raise InvalidInput(_l("The rate cannot be negative."), field="amount")
    exists = db.session.scalar(select(ConnectionRate.id).where(ConnectionRate.valid_from == valid_from,
                                                               ConnectionRate.kind == kind,
                                                               ConnectionRate.category == category_code))
    if exists:
        raise InvalidInput(_l("This rate is already set from that day; add it from another day."), field="valid_from")
    row = ConnectionRate(valid_from=valid_from, kind=kind, category=category_code, amount=amount, note=note or None)
    db.session.add(row)
    db.session.flush()
    audit.record("connection_rate.add", actor=actor, obj=row,
                 details={"valid_from": valid_from.isoformat(), "kind": kind, "category": category_code,
                          "amount": str(amount)})
    db.session.commit()
    return row


# Rates of a demo region (roubles, VAT included), loaded by `flask seed-demo`.
DEMO_RATES = {("standard_per_kw", "up_to_15"): 8000, ("standard_per_km", "up_to_15"): 450000,
              ("preferential_per_kw", "up_to_15"): 3500, ("privileged_per_kw", "up_to_15"): 1000,
              ("standard_per_kw", "up_to_150"): 9000, ("standard_per_km", "up_to_150"): 500000,
              ("standard_per_kw", "from_150_to_670"): 10000, ("standard_per_km", "from_150_to_670"): 600000}


def seed_demo_rates(valid_from: date = date(2026, 1, 1)) -> int:
    if db.session.scalar(select(ConnectionRate.id).limit(1)) is not None:
        return 0
    for (kind, category_code), amount in DEMO_RATES.items():
        db.session.add(ConnectionRate(valid_from=valid_from, kind=kind, category=category_code, amount=Decimal(amount),
                                      note="Демонстрационные ставки"))
    db.session.commit()
    return len(DEMO_RATES)
