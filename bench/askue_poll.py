"""One worker polling 2,000 Modbus meters behind simulated gateways (247 meters a gateway, each
gateway a source), through the poller's own path: counters read, checked, intervals derived and
stored, points updated. Two rounds a poll interval apart; the second is timed (the first only sets
the counters the intervals are derived from).

    python -m bench.askue_poll [--meters 2000]
"""
import argparse
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.support import database_url, migrated_app, report

T0 = datetime(2026, 11, 20, 9, 0, 5, tzinfo=timezone.utc)


class Clock:
    def __init__(self):
        self.at = T0

    def __call__(self):
        return self.at


def build(app, simulator, meters: int) -> list[int]:
    from app.extensions import db
    from app.models import Account, AskuePoint, AskueSource, Meter, Premises

    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("TRUNCATE account, meter_interval, interval_day, interval_month, askue_source, "
                              "meter_event RESTART IDENTITY CASCADE"))
        sources = {}
        for number in range(1, meters + 1):
            host, port, unit = simulator.address_of(number)
            if port not in sources:
                sources[port] = AskueSource(code=f"gw-{port}", name=f"Gateway {port}", protocol="modbus", host=host,
                                            port=port, every_minutes=15,
                                            settings={"register_map": "mercury234_modbus", "timeout": 2.0})
                db.session.add(sources[port])
            account = Account(number=f"{6000000000 + number}", holder_name=f"Абонент {number}",
                              address=f"ул. Опросная, {number}", verification_code_hash="-")
            meter = Meter(premises=Premises(account=account, address=account.address), resource="electricity",
                          model="Меркурий 234", serial=simulator.serial(number),
                          zones=2, installed_on=T0.date(), askue=True)
            db.session.add(AskuePoint(meter=meter, source=sources[port], code=f"MB{number:06d}", address=str(unit)))
        db.session.commit()
        return [s.id for s in sources.values()]


def poll_round(app, source_ids: list[int], at: datetime):
    from app.services import askue_polling

    read = failed = values = 0
    with app.app_context():
        for source_id in source_ids:
            result = askue_polling.poll_source(source_id, now=at)
            read, failed, values = read + result.meters_read, failed + result.meters_failed, values + result.values_new
    return read, failed, values


def main() -> None:
    from askue.simulators.modbus import ModbusGatewaySimulator

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--meters", type=int, default=2000)
    args = parser.parse_args()
    url = make_url(database_url())
    url = url.set(database=f"{url.database}_askue_poll").render_as_string(hide_password=False)
    app = migrated_app(url)
    clock = Clock()
    with ModbusGatewaySimulator(meters=args.meters, register_map="mercury234_modbus", clock=clock) as simulator:
        source_ids = build(app, simulator, args.meters)
        poll_round(app, source_ids, clock.at)
        clock.at = T0 + timedelta(minutes=15)
        started = time.perf_counter()
        read, failed, values = poll_round(app, source_ids, clock.at)
        elapsed = time.perf_counter() - started
    assert (read, failed, values) == (args.meters, 0, args.meters), (read, failed, values)
    report("askue_poll", meters_per_s=read / elapsed, meters=read, gateways=len(source_ids), seconds=elapsed)


if __name__ == "__main__":
    main()
