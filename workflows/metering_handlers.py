"""Handlers and checks of the meter replacement process (bpmn/meter_replacement.bpmn).

    start check  meter_request        the account has the meter in service that is to be replaced
    handler      offer_visit_slots    the free visit windows, as options of the applicant's form
    check        book_visit_slot      takes a place in the chosen window (or says it has just gone)
    check        meter_field_work     the fitter's readings and the new meter, before the task completes
    handler      replace_meter        closes the old meter, opens the new one; data for the act
"""
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import Account, Meter
from app.services import documents, meter_changes, visits
from app.services.errors import InvalidInput
from workflows.handlers import check, handler

ZONES = ("T1", "T2", "T3")


def _reasons() -> dict[str, str]:
    from app.services import process_forms

    request = process_forms.current("meter_request")
    return {o.value: o.label.get("ru") for o in request.field("reason").choices}


def _decimal(value) -> Decimal | None:
    return Decimal(str(value)) if value not in (None, "") else None


def _zone_values(values: dict, prefix: str) -> dict[str, Decimal | None]:
    return {zone: _decimal(values.get(f"{prefix}_{zone.lower()}")) for zone in ZONES}


def _fields(prefix: str) -> dict[str, str]:
    return {zone: f"{prefix}_{zone.lower()}" for zone in ZONES}


def _new_meter(values: dict) -> meter_changes.NewMeter:
    return meter_changes.NewMeter(
        model=values["new_model"], serial=values["new_serial"], zones=int(values["new_zones"]),
        installed_on=date.fromisoformat(values["replaced_on"]), digits=int(values.get("new_digits") or 6),
        next_verification_on=date.fromisoformat(values["new_verified_until"]) if values.get("new_verified_until") else None,
        askue=bool(values.get("askue_bound")))


@check("meter_request")
def meter_request(context, values: dict) -> dict:
    meter = meter_changes.find_active(context.account_id, values.get("meter_serial"), field="meter_serial")
    account = db.session.get(Account, context.account_id)
    return {"meter_serial": meter.serial, "account_number": account.number, "address": meter.premises.address}


@handler("offer_visit_slots")
def offer_visit_slots(case, task) -> dict:
    if task.data.get("visit_done") is False:  # a missed visit: its place goes back before a new choice
        visits.release(task.data.get("visit_slot_id"))
    task.data["visit_slots"] = visits.free()
    return {}


@check("book_visit_slot")
def book_visit_slot(context, values: dict) -> dict:
    slot = visits.book(values.get("slot"))
    return {"visit_slot_id": slot.id, "visit_day": slot.day.isoformat(), "visit_window": slot.window,
            "visit_label": visits.label(slot, "ru")}


@check("meter_field_work")
def meter_field_work(context, values: dict) -> dict:
    if not values.get("visit_done"):
        return {}
    old = meter_changes.find_active(context.account_id, values.get("old_serial"), field="old_serial")
    on = date.fromisoformat(values["replaced_on"])
    if on < old.installed_on:
        raise InvalidInput(_l("The replacement cannot be earlier than the old meter's installation."),
                           field="replaced_on")
    meter_changes.check_final(old, on, _zone_values(values, "old"), _fields("old"))
    new = _new_meter(values)
    meter_changes.check_new(new, _zone_values(values, "new"), {**_fields("new"), "serial": "new_serial"})
    verified_on = values.get("new_verified_on")
    if verified_on and new.next_verification_on and new.next_verification_on <= date.fromisoformat(verified_on):
        raise InvalidInput(_l("The next verification must be after the last one."), field="new_verified_until")
    return {"old_meter_id": old.id, "fitter_id": context.actor_id}


@handler("replace_meter")
def replace_meter(case, task) -> dict:
    data = task.data
    old = db.session.get(Meter, data["old_meter_id"])
    new = _new_meter(data)
    final = {z: v for z, v in _zone_values(data, "old").items() if z in old.zone_names}
    initial = {z: v for z, v in _zone_values(data, "new").items() if z in ZONES[: new.zones]}
    meter = meter_changes.replace(old, final, new, initial, data.get("fitter_id"))
    # What the act of replacement prints.
    data.update({
        "reason_text": _reasons().get(data.get("reason"), data.get("reason") or ""),
        "account_number": case.account.number if case.account else data.get("account_number", ""),
        "old_meter": {"number": old.serial, "model": old.model, "zones": old.zones,
                      "verified_until": old.next_verification_on.isoformat() if old.next_verification_on else ""},
        "old_readings": [{"zone": z, "value": documents.quantity(v)} for z, v in final.items()],
        "new_meter": {"number": new.serial, "model": new.model, "zones": new.zones,
                      "accuracy_class": data.get("new_accuracy_class") or "",
                      "verified_on": data.get("new_verified_on") or "",
                      "verified_until": data.get("new_verified_until") or "", "seal": data.get("new_seal") or ""},
        "new_readings": [{"zone": z, "value": documents.quantity(v)} for z, v in initial.items()],
    })
    return {"new_meter_id": meter.id}
