"""Validating and deploying the technological-connection diagram as the modeler does, on PostgreSQL.

    python -m bench.modeler [--runs 20]

Each run validates the diagram (every check the modeler shows: parsing, the graph, names, the
sandbox, timers) and deploys it as a new version through the service the modeler calls (its own
validation, the parse, the version row, the audit event), each time with a changed status label so
that every deploy really makes a version. Figures: the median and the worst of each, in ms.
"""
import argparse
import logging
import statistics
import time

from bench.support import database_url, migrated_app, report

KEY = "technological_connection"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    url = database_url().rsplit("/", 1)[0] + "/bench_modeler"
    app = migrated_app(url)
    with app.app_context(), app.test_request_context():
        from sqlalchemy import select

        from app.extensions import db
        from app.models import User
        from app.services import processes, users
        from workflows import definitions

        xml = (definitions.BPMN_FOLDER / f"{KEY}.bpmn").read_text(encoding="utf-8")
        definitions.deploy(xml, source="bench")
        analyst = db.session.scalar(select(User).where(User.email == "bench.analyst@example.com")) or \
            users.create_staff("bench.analyst@example.com", "Аналитик", ["analyst"], [], password="Bench-2026-analyst",
                               send_invitation=False)
        processes.check(xml)  # warm up: parser and catalog loaded once, as in a running portal
        validate_ms, deploy_ms = [], []
        stamp = time.time_ns()
        for n in range(args.runs):
            started = time.perf_counter()
            problems = processes.check(xml)
            validate_ms.append((time.perf_counter() - started) * 1000)
            assert not [p for p in problems if p.severity == "error"], problems
            changed = xml.replace("</bpmn:definitions>", f"<!-- bench {stamp} {n} --></bpmn:definitions>")
            started = time.perf_counter()
            processes.deploy(KEY, changed, analyst, comment=f"bench {n}")
            deploy_ms.append((time.perf_counter() - started) * 1000)
        print(f"validate: median {statistics.median(validate_ms):.1f} ms, worst {max(validate_ms):.1f} ms; "
              f"deploy: median {statistics.median(deploy_ms):.1f} ms, worst {max(deploy_ms):.1f} ms "
              f"({len(xml) // 1024} KB diagram, {args.runs} runs)")
    report("modeler", validate_ms=statistics.median(validate_ms), deploy_ms=statistics.median(deploy_ms),
           validate_worst_ms=max(validate_ms), deploy_worst_ms=max(deploy_ms), runs=args.runs)


if __name__ == "__main__":
    main()
