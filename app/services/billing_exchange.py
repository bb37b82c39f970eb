"""Exchange with the external billing system: import accounts, meters and opening balances; export
readings and payments.

An import is all or nothing unless the operator asks to skip bad rows: every row is checked first
(against the file and the database) and only then applied, in one transaction. A file with a bad row
therefore changes nothing, and the report names every problem at once, so the operator fixes the file
in one round instead of one error per attempt. Messages are English and name the line and the column;
the UI translates the frame around them.
"""
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Account, LedgerEntry, Meter, MeterReading, Premises
from app.services import accounts, audit, penalties
from app.services.periods import local_today, period_of, previous_period
from app.services.resources import RESOURCES
from integrations.billing.files import FileFormatError, Row, read_table, write_csv, write_xlsx

FORMATS = ("csv", "xlsx")
LOOKUP_CHUNK = 500  # values per IN (...) list: far below SQLite's bound on parameters
DATE_ISO_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
DATE_RU_RE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
NUMBER_RE = re.compile(r"^[+-]?\d+(\.\d+)?$")
FLAGS = {"1": True, "yes": True, "y": True, "true": True, "да": True, "д": True,
         "0": False, "no": False, "n": False, "false": False, "нет": False, "н": False}
ZONE_COLUMNS = ("initial_t1", "initial_t2", "initial_t3")


@dataclass
class ImportReport:
    """What an import did. `skipped` lists the rows with problems (line, messages): left out of the
    import with skip_errors, or the reason nothing was applied without it. `errors` are about the file."""

    kind: str
    filename: str
    skip_errors: bool = False
    total: int = 0
    applied: int = 0
    skipped: list[tuple[int, list[str]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def applied_ok(self) -> bool:
        return not self.errors and self.applied > 0

    def messages(self) -> list[str]:
        return self.errors + [message for _line, reasons in self.skipped for message in reasons]


@dataclass
class _Checked:
    row: Row
    problems: list[str]
    plan: dict | None = None  # the parsed values, present when the row has no problems


@dataclass
class _Kind:
    required: tuple[str, ...]
    optional: tuple[str, ...]
    check: Callable[[list[Row]], list[_Checked]]
    apply: Callable[[dict, "_Context"], None]


@dataclass
class _Context:
    filename: str
    actor: object
    premises: dict[int, Premises] = field(default_factory=dict)


# ---- reading one row's values --------------------------------------------------------------------------

class _Fields:
    """One row's values, parsed column by column; every problem is collected, not just the first."""

    def __init__(self, row: Row):
        self.row = row
        self.problems: list[str] = []
        if row.extra:
            self.problems.append(f"line {row.line}: {len(row.extra)} value(s) outside the header's columns "
                                 f"({', '.join(repr(v) for v in row.extra[:3])}); in a comma-separated file, "
                                 f"quote decimal commas")

    def fail(self, column: str, message: str) -> None:
        self.problems.append(f'line {self.row.line}, column "{column}": {message}')

    def raw(self, column: str) -> str:
        return self.row.values.get(column, "").strip()

    def text(self, column: str, max_length: int, required: bool = True) -> str | None:
        value = self.raw(column)
        if not value:
            if required:
                self.fail(column, "is empty")
            return None
        if len(value) > max_length:
            return self.fail(column, f"is longer than {max_length} characters")
        return value

    def account_number(self, column: str) -> str | None:
        value = re.sub(r"[\s-]", "", self.raw(column))
        if not accounts.NUMBER_RE.match(value):
            return self.fail(column, f"an account number has 6 to 20 digits, not {self.raw(column)!r}")
        return value

    def integer(self, column: str, low: int, high: int, message: str | None = None,
                default: int | None = None) -> int | None:
        value = self.raw(column)
        if not value and default is not None:
            return default
        if not re.fullmatch(r"[0-9]+", value) or not low <= int(value) <= high:
            return self.fail(column, message or f"must be a whole number from {low} to {high}, not {value!r}")
        return int(value)

    def decimal(self, column: str, places: int, required: bool = True) -> Decimal | None:
        value = self.raw(column)
        if not value:
            if required:
                self.fail(column, "is empty")
            return None
        number = parse_decimal(value)
        if number is None:
            return self.fail(column, f"must be a number like 1234.56, not {value!r}")
        if -number.as_tuple().exponent > places:
            return self.fail(column, f"at most {places} digits after the decimal point")
        return number

    def date(self, column: str, required: bool = True, future: bool = False) -> date | None:
        value = self.raw(column)
        if not value:
            if required:
                self.fail(column, "is empty")
            return None
        try:
            day = parse_date(value)
        except ValueError as error:
            return self.fail(column, str(error))
        if day > local_today() and not future:
            return self.fail(column, f"{day:%Y-%m-%d} is in the future")
        return day

    def flag(self, column: str) -> bool | None:
        value = self.raw(column).lower()
        if value not in FLAGS and value:
            return self.fail(column, f"must be 0/1, yes/no or да/нет, not {self.raw(column)!r}")
        return FLAGS.get(value, False)


def parse_date(text: str) -> date:
    """YYYY-MM-DD or DD.MM.YYYY (how Russian Excel shows dates)."""
    text = text.strip()
    if match := DATE_ISO_RE.match(text):
        year, month, day = match.groups()
    elif match := DATE_RU_RE.match(text):
        day, month, year = match.groups()
    else:
        raise ValueError(f"must be a date written YYYY-MM-DD or DD.MM.YYYY, not {text!r}")
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise ValueError(f"{text!r} is not a date in the calendar") from None


def parse_decimal(text: str) -> Decimal | None:
    """A number with a decimal point or comma and optional space thousands separators; None otherwise.
    Exponents, NaN and "1.234,56" are refused: a billing file never means them."""
    text = re.sub(r"[\s\u00a0\u202f]", "", text).replace(",", ".")
    return Decimal(text) if NUMBER_RE.match(text) else None


def _mark_duplicates(checked: list[_Checked], key: Callable[[_Checked], object], column: str, what: str) -> None:
    """Every row of a repeated key is refused, the first too: the file does not say which one is right."""
    lines = defaultdict(list)
    for item in checked:
        if (value := key(item)) is not None:
            lines[value].append(item)
    for value, items in lines.items():
        if len(items) > 1:
            where = ", ".join(str(i.row.line) for i in items)
            for item in items:
                item.problems.append(f'line {item.row.line}, column "{column}": {what(value)} appears more than '
                                     f"once in the file (lines {where})")


def _chunks(values: Iterable, size: int = LOOKUP_CHUNK):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _accounts_by_number(numbers: Iterable[str]) -> dict[str, Account]:
    found = {}
    for chunk in _chunks(set(numbers)):
        found.update((a.number, a) for a in db.session.scalars(select(Account).where(Account.number.in_(chunk))))
    return found


def _account(fields: _Fields, column: str, known: dict[str, Account]) -> Account | None:
    number = fields.account_number(column)
    if number is not None and number not in known:
        fields.fail(column, f"no account {number} in the portal; import the accounts first")
    return known.get(number)


# ---- accounts ------------------------------------------------------------------------------------------

def _check_accounts(rows: list[Row]) -> list[_Checked]:
    existing = _accounts_by_number(re.sub(r"[\s-]", "", r.values["number"]) for r in rows)
    checked = []
    for row in rows:
        f = _Fields(row)
        number = f.account_number("number")
        plan = {
            "number": number,
            "account": existing.get(number),
            "holder_name": f.text("holder_name", 200),
            "address": f.text("address", 300),
            # A blank code keeps the current one of an existing account; a new account cannot do without.
            "code": f.text("code", 64, required=number is not None and number not in existing),
            "region": f.text("region", 10, required=False),
            "category": f.text("category", 40, required=False),
            "penalty_scheme": f.text("penalty_scheme", 20, required=False),
            "residents": f.integer("residents", 0, 100) if f.raw("residents") else None,
        }
        if plan["penalty_scheme"] and plan["penalty_scheme"] not in penalties.SCHEMES:
            f.fail("penalty_scheme", f"must be one of {', '.join(penalties.SCHEMES)}, not {plan['penalty_scheme']!r}")
        checked.append(_Checked(row, f.problems, plan))
    _mark_duplicates(checked, lambda c: c.plan["number"], "number", lambda n: f"account {n}")
    return checked


def _apply_account(plan: dict, ctx: _Context) -> None:
    account = plan["account"]
    if account is None:
        account = accounts.create(plan["number"], plan["holder_name"], plan["address"], plan["code"])
        db.session.add(Premises(account=account, address=plan["address"],
                                residents=1 if plan["residents"] is None else plan["residents"]))
    else:
        premises = db.session.scalars(select(Premises).where(Premises.account_id == account.id)
                                      .order_by(Premises.id)).all()
        # The premises follows a new address only where it was the account's address: a second
        # premises elsewhere is not the billing system's to move.
        for place in premises:
            if place.address == account.address:
                place.address = plan["address"]
        if plan["residents"] is not None and premises:
            premises[0].residents = plan["residents"]
        account.holder_name, account.address = plan["holder_name"], plan["address"]
        if plan["code"]:
            account.verification_code_hash = accounts.code_hash(plan["code"])
    # Blank optional values keep what the account has (or the model's defaults for a new one).
    for name in ("region", "category", "penalty_scheme"):
        if plan[name]:
            setattr(account, name, plan[name])


# ---- meters --------------------------------------------------------------------------------------------

def _check_meters(rows: list[Row]) -> list[_Checked]:
    known = _accounts_by_number(re.sub(r"[\s-]", "", r.values["account_number"]) for r in rows)
    registered = _registered_meters({(r.values["model"].strip(), r.values["serial"].strip()) for r in rows})
    checked = []
    for row in rows:
        f = _Fields(row)
        account = _account(f, "account_number", known)
        if account is not None and account.is_closed:
            f.fail("account_number", f"account {account.number} is closed")
        resource = f.raw("resource").lower()
        if resource not in RESOURCES:
            f.fail("resource", f"must be one of {', '.join(RESOURCES)}, not {f.raw('resource')!r}")
        model, serial = f.text("model", 80), f.text("serial", 40)
        if (model, serial) in registered:
            f.fail("serial", f"meter {model} No. {serial} is already registered "
                             f"(account {registered[(model, serial)]})")
        zones = f.integer("zones", 1, 3, message=f"must be 1, 2 or 3, not {f.raw('zones')!r}")
        if zones and resource in RESOURCES and zones > RESOURCES[resource].max_zones:
            f.fail("zones", f"must be {RESOURCES[resource].max_zones} for a {resource} meter, not {zones}")
            zones = None
        digits = f.integer("digits", 4, 9)
        installed_on = f.date("installed_on")
        next_verification_on = f.date("next_verification_on", required=False, future=True)
        if installed_on and next_verification_on and next_verification_on <= installed_on:
            f.fail("next_verification_on", "must be after installed_on")
        plan = {"account": account, "resource": resource, "model": model, "serial": serial, "zones": zones,
                "digits": digits, "installed_on": installed_on, "next_verification_on": next_verification_on,
                "askue": f.flag("askue"), "values": _initial_values(f, zones, digits)}
        checked.append(_Checked(row, f.problems, plan))
    _mark_duplicates(checked, lambda c: (c.plan["model"], c.plan["serial"]) if c.plan["serial"] else None,
                     "serial", lambda key: f"meter {key[0]} No. {key[1]}")
    return checked


def _initial_values(f: _Fields, zones: int | None, digits: int | None) -> dict[str, Decimal]:
    """The counter at installation, one value per zone, within the counter's digits."""
    values = {}
    for number, column in enumerate(ZONE_COLUMNS, start=1):
        if zones is None or number > zones:
            if zones is not None and f.raw(column):
                f.fail(column, f"the meter has {zones} zone(s); leave this column empty")
            continue
        value = f.decimal(column, 3)
        if value is None:
            continue
        if value < 0:
            f.fail(column, "cannot be negative")
        elif digits is not None and value >= 10 ** digits:
            f.fail(column, f"does not fit the meter's {digits} digits")
        else:
            values[f"t{number}"] = value
    return values


def _registered_meters(keys: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(model, serial) already in the database → the account number they are on."""
    found = {}
    for chunk in _chunks({serial for _model, serial in keys}):
        rows = db.session.execute(select(Meter.model, Meter.serial, Account.number).select_from(Meter)
                                  .join(Premises, Meter.premises_id == Premises.id)
                                  .join(Account, Premises.account_id == Account.id)
                                  .where(Meter.serial.in_(chunk)))
        found.update(((m, s), n) for m, s, n in rows if (m, s) in keys)
    return found


def _apply_meter(plan: dict, ctx: _Context) -> None:
    account = plan["account"]
    premises = ctx.premises.get(account.id) or db.session.scalar(
        select(Premises).where(Premises.account_id == account.id).order_by(Premises.id).limit(1))
    if premises is None:
        # Accounts opened outside this import may have none yet; the meter needs a place to hang on.
        premises = Premises(account=account, address=account.address)
        db.session.add(premises)
    ctx.premises[account.id] = premises
    installed_on = plan["installed_on"]
    meter = Meter(premises=premises, resource=plan["resource"], model=plan["model"], serial=plan["serial"],
                  zones=plan["zones"], digits=plan["digits"], installed_on=installed_on,
                  next_verification_on=plan["next_verification_on"], askue=plan["askue"])
    # The installation reading is the base the first consumption is counted from; it is never billed itself.
    db.session.add_all([meter, MeterReading(meter=meter, period=period_of(installed_on), taken_on=installed_on,
                                            source="installation", status="billed",
                                            submitted_by_id=getattr(ctx.actor, "id", None), **plan["values"])])


# ---- opening balances ----------------------------------------------------------------------------------

def _check_balances(rows: list[Row]) -> list[_Checked]:
    known = _accounts_by_number(re.sub(r"[\s-]", "", r.values["account_number"]) for r in rows)
    checked = []
    for row in rows:
        f = _Fields(row)
        account = _account(f, "account_number", known)
        amount = f.decimal("amount", 2)
        if amount is not None and abs(amount) >= 10 ** 12:
            f.fail("amount", "is too large")
        as_of = f.date("as_of")
        period = _period(f, "period") if f.raw("period") else (as_of and previous_period(period_of(as_of)))
        external_id = f"opening:{account.number}:{as_of.isoformat()}" if account and as_of else None
        plan = {"account": account, "amount": amount, "as_of": as_of, "period": period, "external_id": external_id}
        checked.append(_Checked(row, f.problems, plan))
    imported = _imported_ids({c.plan["external_id"] for c in checked if c.plan["external_id"]})
    for item in checked:
        if item.plan["external_id"] in imported:
            item.problems.append(f'line {item.row.line}, column "as_of": the opening balance of account '
                                 f'{item.plan["account"].number} as of {item.plan["as_of"]:%Y-%m-%d} is already '
                                 f"imported")
    _mark_duplicates(checked, lambda c: c.plan["external_id"], "as_of",
                     lambda key: "the balance of account {} as of {}".format(*key.split(":")[1:]))
    return checked


def _period(f: _Fields, column: str) -> date | None:
    value = f.raw(column)
    # Excel turns a typed "2026-03" into the date 2026-03-01, which comes back in full.
    if match := re.match(r"^(\d{4})-(\d{1,2})(-0?1)?$", value):
        try:
            return date(int(match[1]), int(match[2]), 1)
        except ValueError:
            pass
    return f.fail(column, f"must be a month written YYYY-MM, not {value!r}")


def _imported_ids(external_ids: set[str]) -> set[str]:
    found = set()
    for chunk in _chunks(external_ids):
        found.update(db.session.scalars(select(LedgerEntry.external_id).where(
            LedgerEntry.source == "import", LedgerEntry.external_id.in_(chunk))))
    return found


def _apply_balance(plan: dict, ctx: _Context) -> None:
    # The (source, external_id) unique constraint is what keeps a second run from booking it twice.
    db.session.add(LedgerEntry(account_id=plan["account"].id, kind="opening", amount=plan["amount"],
                               booked_on=plan["as_of"], period=plan["period"], due_date=plan["as_of"],
                               source="import", external_id=plan["external_id"],
                               description=f"opening balance from {ctx.filename}"[:300],
                               created_by_id=getattr(ctx.actor, "id", None)))


KINDS = {
    "accounts": _Kind(("number", "holder_name", "address", "code"),
                      ("region", "category", "penalty_scheme", "residents"), _check_accounts, _apply_account),
    "meters": _Kind(("account_number", "resource", "model", "serial", "zones", "digits", "installed_on",
                     "initial_t1"), ("initial_t2", "initial_t3", "next_verification_on", "askue"),
                    _check_meters, _apply_meter),
    "balances": _Kind(("account_number", "amount", "as_of"), ("period",), _check_balances, _apply_balance),
}


# ---- the import ----------------------------------------------------------------------------------------

def import_file(kind: str, filename: str, content: bytes, skip_errors: bool = False, actor=None,
                actor_label: str | None = None) -> ImportReport:
    """Check every row of a CSV/XLSX file, then apply it in one transaction (see the module docstring)."""
    if kind not in KINDS:
        raise ValueError(f"unknown import kind {kind!r}; one of {', '.join(KINDS)}")
    spec, report = KINDS[kind], ImportReport(kind, filename, skip_errors)
    try:
        rows = read_table(filename, content, spec.required, spec.optional)
        if not rows:
            raise FileFormatError("the file has a header but no rows")
    except FileFormatError as error:
        report.errors.append(str(error))
        return _finish(report, actor, actor_label, "failed")
    report.total = len(rows)
    checked = spec.check(rows)
    report.skipped = [(c.row.line, c.problems) for c in checked if c.problems]
    valid = [c for c in checked if not c.problems]
    if (report.skipped and not skip_errors) or not valid:
        return _finish(report, actor, actor_label, "rejected")
    ctx = _Context(filename, actor)
    try:
        for item in valid:
            spec.apply(item.plan, ctx)
        db.session.flush()
    except IntegrityError:
        # Checked a moment ago, so another import wrote the same rows meanwhile: refuse the whole file.
        report.errors.append("the database changed while the file was being imported (another import of "
                             "the same data?); nothing was applied, run the import again")
        return _finish(report, actor, actor_label, "failed")
    report.applied = len(valid)
    return _finish(report, actor, actor_label, "ok")


def _finish(report: ImportReport, actor, actor_label: str | None, outcome: str) -> ImportReport:
    details = {"kind": report.kind, "filename": report.filename, "total": report.total,
               "applied": report.applied, "skipped": len(report.skipped), "errors": len(report.errors),
               "skip_errors": report.skip_errors}
    # A refused import rolls back whatever it had added (commit=True); a successful one commits with its rows.
    audit.record("billing.import", actor=actor, actor_label=actor_label, outcome=outcome, details=details,
                 commit=outcome != "ok")
    db.session.commit()
    return report


# ---- exports -------------------------------------------------------------------------------------------

READING_COLUMNS = ("account_number", "meter_serial", "meter_model", "resource", "period", "taken_on",
                   "t1", "t2", "t3", "source", "status")
PAYMENT_COLUMNS = ("account_number", "booked_on", "amount", "source", "external_id", "chosen_period")


def export_readings(period: date, fmt: str) -> tuple[str, bytes]:
    """The current reading of every meter for a billing period."""
    _check_format(fmt)
    period = period_of(period)
    rows = db.session.execute(
        select(Account.number, Meter.serial, Meter.model, Meter.resource, MeterReading)
        .select_from(MeterReading).join(Meter, MeterReading.meter_id == Meter.id)
        .join(Premises, Meter.premises_id == Premises.id).join(Account, Premises.account_id == Account.id)
        .where(MeterReading.period == period, MeterReading.is_current)
        .order_by(Account.number, Meter.model, Meter.serial))
    data = [{"account_number": number, "meter_serial": serial, "meter_model": model, "resource": resource,
             "period": f"{r.period:%Y-%m}", "taken_on": r.taken_on, "t1": r.t1, "t2": r.t2, "t3": r.t3,
             "source": r.source, "status": r.status}
            for number, serial, model, resource, r in rows]
    return f"readings-{period:%Y-%m}.{fmt}", _write(fmt, data, READING_COLUMNS)


def export_payments(date_from: date, date_to: date, fmt: str) -> tuple[str, bytes]:
    """Payments booked from `date_from` to `date_to` inclusive, amounts positive as a bank statement shows."""
    _check_format(fmt)
    if date_from > date_to:
        raise ValueError(f"the range starts ({date_from}) after it ends ({date_to})")
    rows = db.session.execute(
        select(Account.number, LedgerEntry).join(Account, LedgerEntry.account_id == Account.id)
        .where(LedgerEntry.kind == "payment", LedgerEntry.booked_on.between(date_from, date_to))
        .order_by(LedgerEntry.booked_on, LedgerEntry.id))
    data = [{"account_number": number, "booked_on": e.booked_on, "amount": -e.amount, "source": e.source,
             "external_id": e.external_id, "chosen_period": f"{e.chosen_period:%Y-%m}" if e.chosen_period else None}
            for number, e in rows]
    return f"payments-{date_from:%Y%m%d}-{date_to:%Y%m%d}.{fmt}", _write(fmt, data, PAYMENT_COLUMNS)


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")


def _write(fmt: str, rows: list[dict], columns: tuple[str, ...]) -> bytes:
    return write_csv(rows, columns) if fmt == "csv" else write_xlsx(rows, columns)
