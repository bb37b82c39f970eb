"""Consumption charts of an account's meter as JSON, and the same points as CSV or XLSX, so that the
page can offer "download what is shown"."""
import json
import re

import marshmallow as ma
from flask import Response
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Blueprint

from app.services import consumption_charts as charts
from app.services.errors import InvalidInput
from app.services.resources import RESOURCES
from integrations.billing.files import write_csv, write_xlsx

blp = Blueprint("api_consumption", __name__, url_prefix="/api/v1",
                description="Consumption charts: ASKUE interval data, or months from readings")

FORMATS = {"json": "application/json", "csv": "text/csv",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
QUALITY_LABELS = {
    "measured": _l("measured"),
    "substituted": _l("substituted"),
    "partial": _l("incomplete"),
    "missing": _l("no data"),
    "estimated": _l("estimated"),
}


class ConsumptionQuery(ma.Schema):
    # Dates, steps and units are checked by the service, whose messages speak the user's language.
    meter = ma.fields.Integer(required=True, metadata={"description": "a meter of the account"})
    from_ = ma.fields.String(required=True, data_key="from",
                             metadata={"format": "date", "description": "first local day, YYYY-MM-DD"})
    to = ma.fields.String(required=True, metadata={"format": "date", "description": "last local day (inclusive)"})
    step = ma.fields.String(load_default="day", metadata={
        "enum": list(charts.STEPS), "description": "interval (up to 3 days), hour (31 days), day (2 years), "
                                                   "month (10 years); meters without ASKUE: month only"})
    compare = ma.fields.String(load_default=None, metadata={"enum": list(charts.COMPARES)})
    unit = ma.fields.String(load_default="kwh", metadata={
        "enum": list(charts.UNITS), "description": "rub: an estimate at the tariff of each day, before VAT and "
                                                   "penalties as the tariff tables hold them"})
    format = ma.fields.String(load_default="json", metadata={"enum": list(FORMATS)})


class PointSchema(ma.Schema):
    start = ma.fields.String(allow_none=True, metadata={"description": "local start, ISO 8601 with offset"})
    total = ma.fields.Float(allow_none=True, metadata={"description": "null when there is no data"})
    T1 = ma.fields.Float(allow_none=True, metadata={"description": "2- and 3-zone meters only"})
    T2 = ma.fields.Float(allow_none=True)
    T3 = ma.fields.Float(allow_none=True)
    quality = ma.fields.String(metadata={"enum": list(charts.QUALITIES)})


class TotalsSchema(ma.Schema):
    total = ma.fields.Float()
    T1 = ma.fields.Float()
    T2 = ma.fields.Float()
    T3 = ma.fields.Float()


class RangeSchema(ma.Schema):
    from_ = ma.fields.Date(data_key="from")
    to = ma.fields.Date()


class ChartMeterSchema(ma.Schema):
    id = ma.fields.Integer()
    serial = ma.fields.String()
    model = ma.fields.String()
    resource = ma.fields.String()
    zones = ma.fields.Integer()
    askue = ma.fields.Boolean()


class ZoneSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()


class PeakSchema(ma.Schema):
    start = ma.fields.String()
    total = ma.fields.Float()


class TopDaySchema(ma.Schema):
    day = ma.fields.Date()
    total = ma.fields.Float()


class CompareSchema(ma.Schema):
    kind = ma.fields.String(metadata={"enum": list(charts.COMPARES)})
    from_ = ma.fields.Date(data_key="from")
    to = ma.fields.Date()
    clipped_from = ma.fields.Nested(RangeSchema, allow_none=True)
    points = ma.fields.List(ma.fields.Nested(PointSchema), metadata={"description": "aligned with `points`"})
    totals = ma.fields.Nested(TotalsSchema)


class ConsumptionSchema(ma.Schema):
    account_id = ma.fields.Integer()
    meter = ma.fields.Nested(ChartMeterSchema)
    step = ma.fields.String()
    unit = ma.fields.String(metadata={"enum": ["kwh", "gcal", "m3", "rub"]})
    from_ = ma.fields.Date(data_key="from")
    to = ma.fields.Date()
    clipped_from = ma.fields.Nested(RangeSchema, allow_none=True, metadata={
        "description": "the range asked for, when it was cut to the caller's part of the account's history"})
    zones = ma.fields.List(ma.fields.Nested(ZoneSchema))
    as_of = ma.fields.String(allow_none=True, metadata={"description": "end of the newest interval stored"})
    points = ma.fields.List(ma.fields.Nested(PointSchema))
    totals = ma.fields.Nested(TotalsSchema)
    peak = ma.fields.Nested(PeakSchema, allow_none=True)
    top_days = ma.fields.List(ma.fields.Nested(TopDaySchema))
    compare = ma.fields.Nested(CompareSchema, allow_none=True)
    notes = ma.fields.List(ma.fields.String())


@blp.get("/accounts/<int:account_id>/consumption")
@blp.arguments(ConsumptionQuery, location="query")
@blp.response(200, ConsumptionSchema)
@blp.alt_response(200, schema={"type": "string"}, content_type=FORMATS["csv"], success=True)
@blp.alt_response(200, schema={"type": "string", "format": "binary"}, content_type=FORMATS["xlsx"], success=True)
def consumption(query, account_id):
    """A meter's consumption over local days by interval, hour, day or month, with zones, the quality of
    each point, totals, the peak and the top days; `format=csv|xlsx` gives the points as a file."""
    if query["format"] not in FORMATS:
        raise InvalidInput(_l("Choose the format: json, csv or xlsx."), field="format")
    chart = charts.series(current_user, account_id, query["meter"], charts.parse_day(query["from_"], "from"),
                          charts.parse_day(query["to"], "to"), query["step"], compare=query["compare"] or None,
                          unit=query["unit"])
    if query["format"] == "json":
        # Written here rather than through the schema: a month by hour is hundreds of points, and the
        # service already gives plain JSON values.
        return Response(json.dumps(chart, ensure_ascii=False, separators=(",", ":")), mimetype=FORMATS["json"])
    columns, rows = table(chart)
    content = write_csv(rows, columns) if query["format"] == "csv" else write_xlsx(rows, columns, title="consumption")
    # Only safe characters: a header is Latin-1, and a serial may hold anything.
    serial = re.sub(r"[^A-Za-z0-9-]+", "_", chart["meter"]["serial"])
    name = f"consumption_{serial}_{chart['from']}_{chart['to']}_{chart['step']}.{query['format']}"
    return Response(content, mimetype=FORMATS[query["format"]],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def table(chart: dict) -> tuple[list[str], list[dict]]:
    """The points as rows under headers in the user's language: start, total, zones, quality, and the
    compared total when there is one."""
    unit = _("rub.") if chart["unit"] == "rub" else str(RESOURCES[chart["meter"]["resource"]].unit)
    zones = [zone for zone in chart["zones"] if chart["meter"]["zones"] > 1]
    start, total, quality = _("Start"), f"{_('Total')}, {unit}", _("Quality")
    columns = [start, total] + [f"{zone['name']}, {unit}" for zone in zones] + [quality]
    compared = None
    if chart["compare"]:
        label = _("A year earlier") if chart["compare"]["kind"] == "prev_year" else _("The period before")
        compared = f"{label}, {unit}"
        columns.append(compared)
    rows = []
    for n, point in enumerate(chart["points"]):
        row = {start: point["start"], total: point["total"], quality: str(QUALITY_LABELS[point["quality"]])}
        for zone, column in zip(zones, columns[2:]):
            row[column] = point[zone["code"]]
        if compared:
            row[compared] = chart["compare"]["points"][n]["total"]
        rows.append(row)
    return columns, rows
