"""Public calculators: penalties on a debt, and a bill estimate from consumption by zones."""
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import Tariff
from app.services import penalties, tariffs
from app.services.errors import InvalidInput
from app.services.statements import rate_tables

MAX_AMOUNT = Decimal("1000000000")
MAX_QUANTITY = Decimal("10000000")


def decimal_field(raw, field: str, maximum: Decimal) -> Decimal:
    try:
        value = Decimal(str(raw).strip().replace(" ", "").replace(",", "."))
    except (InvalidOperation, AttributeError):
        raise InvalidInput(_l("Enter a number, like 1234.56."), field=field) from None
    if not value.is_finite() or value < 0 or value > maximum:
        raise InvalidInput(_l("Enter a number from 0 to %(max)s.", max=maximum), field=field)
    return value


def penalty(amount, due_date: date, paid_on: date, scheme: str) -> penalties.PenaltyResult:
    value = decimal_field(amount, "amount", MAX_AMOUNT)
    if scheme not in penalties.SCHEMES:
        raise InvalidInput(_l("Choose who owes: a household or an organisation."), field="scheme")
    if paid_on < due_date:
        raise InvalidInput(_l("The payment date cannot be before the due date."), field="paid_on")
    if (paid_on - due_date).days > 365 * 10:
        raise InvalidInput(_l("The calculator covers at most ten years."), field="paid_on")
    rates, caps = rate_tables()
    try:
        return penalties.calculate(value.quantize(Decimal("0.01")), due_date, paid_on, penalties.SCHEMES[scheme],
                                   rates, caps, [penalties.Repayment(paid_on, value)])
    except ValueError:
        raise InvalidInput(_l("There is no key rate for that date in our tables."), field="paid_on") from None


def choices() -> dict[str, list[str]]:
    """The regions and categories that have tariffs, for the estimate form."""
    return {"regions": list(db.session.scalars(select(Tariff.region).distinct().order_by(Tariff.region))),
            "categories": list(db.session.scalars(select(Tariff.category).distinct().order_by(Tariff.category)))}


def estimate(region: str, category: str, resource: str, quantities: dict, period: date) -> list[tariffs.PriceLine]:
    zones = len(quantities)
    values = {zone: decimal_field(raw, zone, MAX_QUANTITY) for zone, raw in quantities.items()}
    try:
        parts = tariffs.segments(tariffs.tariffs_for(region, category, resource, zones), period)
        return tariffs.price(values, parts, period)
    except tariffs.NoTariff:
        raise InvalidInput(_l("There is no tariff for this choice in that month.")) from None
