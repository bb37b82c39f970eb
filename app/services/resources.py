"""What the company sells and how each resource is measured."""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Resource:
    code: str
    label: object
    unit: object
    max_zones: int


RESOURCES = {
    r.code: r for r in (
        Resource("electricity", _l("Electricity"), _l("kWh"), 3),
        Resource("heat", _l("Heat"), _l("Gcal"), 1),
        Resource("hot_water", _l("Hot water"), _l("m³"), 1),
    )
}

ZONE_LABELS = {
    1: {"T1": _l("single rate")},
    2: {"T1": _l("T1 day"), "T2": _l("T2 night")},
    3: {"T1": _l("T1 peak"), "T2": _l("T2 night"), "T3": _l("T3 semi-peak")},
}


def zone_label(zones: int, zone: str) -> str:
    return str(ZONE_LABELS[zones][zone])
