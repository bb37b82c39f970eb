"""Rendering a case document: the technological-connection contract (`tp_contract`, three pages) as the
`.docx` (docxtpl) and as the PDF (Jinja, then WeasyPrint), one render after another in one process, as
the worker that prints documents does.

    python -m bench.documents [--runs 20]

One warm-up render of each first (imports, fonts, the compiled stylesheet), then `--runs` timed renders
of each; the figures are milliseconds per render. Needs no database.
"""
import argparse
import io
import logging
import statistics
import time
from datetime import date

from bench.support import percentile, report

CONTEXT = {
    "case": {"number": "ТП-2026-004217", "filed_on": date(2026, 4, 20),
             "address": "Московская обл., г.о. Подольск, д. Лаговское, ул. Полевая, уч. 15"},
    "applicant": {"full_name": "Иванова Мария Петровна", "kind": "individual", "inn": "",
                  "phone": "+7 916 123-45-67", "email": "ivanova@example.ru",
                  "address": "142100, Московская обл., г. Подольск, ул. Садовая, д. 7, кв. 12"},
    "specialist": {"full_name": "Петров Павел Сергеевич", "position": "ведущий инженер"},
    "data": {
        "object_name": "жилой дом",
        "object_address": "Московская обл., г.о. Подольск, д. Лаговское, ул. Полевая, уч. 15",
        "cadastral_number": "50:27:0030112:415", "max_power_kw": "15", "new_power_kw": "15",
        "existing_power_kw": "0", "voltage_kv": "0,4", "reliability_category": "III", "load_character": "бытовая",
        "connection_term": "6 месяцев", "connection_deadline": "2026-10-27",
        "fee": {"amount": "12345.60", "vat": "2226.24",
                "basis": "ставка за 1 кВт максимальной мощности, установленная приказом Комитета по ценам и "
                         "тарифам Московской области от 19.12.2025 № 301-Р"},
        "conditions_number": "ТУ-2026-004217", "invoice_number": "СЧ-2026-004217", "invoice_days": "5",
        "retail_supplier": "АО «ГридКейс Энерго»",
    },
}


def timed(render, runs: int) -> tuple[list[float], bytes]:
    """Milliseconds of each of `runs` calls, sorted, and the last output."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        output = render()
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times), output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--template", default="tp_contract")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # WeasyPrint's notes on CSS it ignores

    from pypdf import PdfReader

    from app import create_app
    from app.services import documents

    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")
    with app.app_context():
        started = time.perf_counter()
        documents.render_docx(args.template, CONTEXT)
        documents.render_pdf(args.template, CONTEXT)
        warm_up = time.perf_counter() - started
        docx_times, docx = timed(lambda: documents.render_docx(args.template, CONTEXT), args.runs)
        pdf_times, pdf = timed(lambda: documents.render_pdf(args.template, CONTEXT), args.runs)
    pages = len(PdfReader(io.BytesIO(pdf)).pages)

    print(f"{args.template}: warm-up (first .docx and PDF) {warm_up:.2f} s, then {args.runs} renders of each")
    for label, times, size in ((".docx", docx_times, len(docx)), ("PDF", pdf_times, len(pdf))):
        print(f"  {label:5} median {statistics.median(times):7.1f} ms  p90 {percentile(times, 0.9):7.1f} ms  "
              f"min {times[0]:7.1f} ms  max {times[-1]:7.1f} ms  {size / 1024:6.1f} KB")
    print(f"  the PDF has {pages} pages")
    report("documents", docx_ms=statistics.median(docx_times), pdf_ms=statistics.median(pdf_times),
           pdf_p90_ms=percentile(pdf_times, 0.9), pages=pages, runs=args.runs)


if __name__ == "__main__":
    main()
