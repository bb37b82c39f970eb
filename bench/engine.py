"""The case engine on PostgreSQL: task completions per second through the service layer (locking,
state, projections, timeline, audit), the size of a case's state, and whether a task's cost grows
with the length of the case.

    python -m bench.engine [--cases 1200] [--rounds 120] [--workers 4]

The throughput runs --workers processes side by side, as web and Celery workers do, each starting
and driving its own cases of the demo meter-replacement process (review, then the applicant's confirmation)
deployed with its document step pointed at the `noop` handler, so that PDF rendering does not stand
in for the engine; `with_documents_per_s` is the same run with the real document step on 20 cases.
"""
import argparse
import multiprocessing
import logging
import statistics
import time
from pathlib import Path

import flask_migrate

from bench.support import database_url, ensure_database, report

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "bpmn" / "demo_meter_replacement.bpmn"
LOOP = Path(__file__).with_name("loop.bpmn")


def drive(app, key: str, cases: int, people, start_at: float | None = None) -> tuple[int, float, list[int]]:
    """File `cases` cases, then complete every user task of them; only the completions are timed."""
    from app.services import cases as case_service
    from workflows import engine

    applicant, specialist = people
    ids = [case_service.start(applicant, key, {"reason": "failure", "phone": "+79000000000"}).id
           for _ in range(cases)]
    if start_at is not None:
        time.sleep(max(0.0, start_at - time.time()))  # every process starts completing together
    completions, started = 0, time.perf_counter()
    for case_id in ids:
        for _step in range(2):
            [task] = case_service.open_tasks_of(case_id)
            values = ({"decision": "approve", "visit_date": "2099-01-10"} if task.actor == "staff"
                      else {"visit_confirmed": True})
            engine.complete_task(task.id, specialist if task.actor == "staff" else applicant, values)
            completions += 1
    return completions, time.perf_counter() - started, ids


def _worker(args) -> tuple[int, float, float, list[int]]:
    """One driving process: its own app, connections and cases, as a Celery or web worker would."""
    url, cases, files, start_at = args
    logging.disable(logging.INFO)
    from app import create_app
    from app.extensions import db
    from app.models import User

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, FILE_STORE=files)
    with app.app_context():
        people = (db.session.scalar(db.select(User).where(User.email == "bench.applicant@example.com")),
                  db.session.scalar(db.select(User).where(User.email == "bench.metering@example.com")))
        drive(app, "bench_demo", 3, people)  # warm-up in this process
        completions, seconds, ids = drive(app, "bench_demo", cases, people, start_at)
        return completions, time.time() - seconds, time.time(), ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1200)
    parser.add_argument("--rounds", type=int, default=120)
    parser.add_argument("--workers", type=int, default=4, help="driving processes, each on its own cases")
    args = parser.parse_args()
    logging.disable(logging.INFO)

    import tempfile

    from app import create_app
    from app.extensions import db
    from app.models import Case
    from tests.factories import UserFactory
    from workflows import definitions, engine
    from workflows import state as state_module

    url = database_url()
    ensure_database(url)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, FILE_STORE=tempfile.mkdtemp(prefix="bench-files-"))
    with app.app_context():
        flask_migrate.downgrade(revision="base")
        flask_migrate.upgrade()
        users = UserFactory(app)
        people = (users.customer(email="bench.applicant@example.com"),
                  users.staff("specialist", groups=["metering"], email="bench.metering@example.com"))
        noop_demo = DEMO.read_bytes().replace(b'id="generate_document"', b'id="noop"').replace(
            b'id="demo_meter_replacement"', b'id="bench_demo"')
        definitions.deploy(noop_demo, source="bench")
        definitions.deploy(DEMO.read_bytes(), source="bench")
        definitions.deploy(LOOP.read_bytes(), source="bench")

        db.session.commit()
        files = app.config["FILE_STORE"]
        with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
            share = max(1, args.cases // args.workers)
            start_at = time.time() + 45  # after every process has started, warmed up and filed its cases
            results = pool.map(_worker, [(url, share, files, start_at)] * args.workers)
        completions = sum(r[0] for r in results)
        seconds = max(r[2] for r in results) - min(r[1] for r in results)
        ids = [i for r in results for i in r[3]]
        with_docs, doc_seconds, _ = drive(app, "demo_meter_replacement", 20, people)
        sizes = [state_module.size(db.session.get(Case, i).state) for i in ids]
        # A long case: one task per round, timed one by one.
        from app.services import cases as case_service

        case = engine.start_case("bench_loop", applicant=people[0], data={"rounds": 0, "limit": args.rounds + 5})
        timings = []
        for _ in range(args.rounds):
            [task] = case_service.open_tasks(case)
            started = time.perf_counter()
            case = engine.complete_task(task.id, people[1], {"measures": "ok"})
            timings.append(time.perf_counter() - started)
        first = statistics.median(timings[1:11])
        hundredth = statistics.median(timings[95:105])
        long_state = state_module.size(case.state)
    print(f"{completions} completions in {seconds:.1f} s over {len(ids)} cases by {args.workers} processes "
          f"; with documents "
          f"{with_docs / doc_seconds:.1f}/s; long case state after {args.rounds} rounds {long_state / 1024:.1f} KB")
    report("engine", task_completions_per_s=completions / seconds, state_kb_p50=statistics.median(sizes) / 1024,
           cost_ratio_task100_vs_task1=round(hundredth / first, 2), with_documents_per_s=with_docs / doc_seconds)


if __name__ == "__main__":
    main()
