"""Public disclosure pages: the generated items (tariffs, connection statistics, free capacity) as files.

The category page prints them through the partials in templates/disclosure/generated/; here they
are downloaded as PDF or XLSX, made from the same data at the time of the request.
"""
import io

from flask import request, send_file

from app.models.disclosure import GENERATORS
from app.services import disclosure_generated as generated
from app.web.disclosure import bp

TYPES = {"pdf": generated.PDF_TYPE, "xlsx": generated.XLSX_TYPE}


# Anyone may ask for these, and printing a PDF is the costly part: a file is kept under what it
# shows (the report's data), so visitors asking for the same data cost one render, and any change
# in the tables gives a new file at once.
_made: dict[tuple, bytes] = {}
KEPT = 16


@bp.get(f"/generated/<any({', '.join(GENERATORS)}):generator>.<any(pdf, xlsx):fmt>")
def generated_file(generator, fmt):
    year = request.args.get("year", type=int) if generator == "tp_stats" else None
    report = generated.report_for_file(generator, year=year)
    key = (fmt, repr(report))
    data = _made.get(key)
    if data is None:
        render = generated.render_pdf if fmt == "pdf" else generated.render_xlsx
        data = render(generator, report=report)
        while len(_made) >= KEPT:
            _made.pop(next(iter(_made)))
        _made[key] = data
    response = send_file(io.BytesIO(data), mimetype=TYPES[fmt], as_attachment=True,
                         download_name=generated.file_name(generator, fmt, year=year))
    # Made from the tables as they are: a copy kept elsewhere may be out of date after the next change.
    response.headers["Cache-Control"] = "no-cache"
    return response
