"""Users and accounts made through the same services the app uses."""
import itertools

from sqlalchemy import select

from app import policy
from app.extensions import db
from app.models import OWNER, AccountAccess, User
from app.models.types import utcnow
from app.services import accounts, passwords, users

PASSWORD = "Correct-horse-42"
_seq = itertools.count(1)


class UserFactory:
    def __init__(self, app):
        self.app = app

    def customer(self, email: str | None = None, name: str = "Тестов Тест Тестович", confirmed=True) -> User:
        email = email or f"customer{next(_seq)}@example.com"
        user = User(email=email, full_name=name, password_hash=passwords.hash_password(PASSWORD),
                    email_confirmed_at=utcnow() if confirmed else None)
        user.set_roles([policy.CUSTOMER])
        db.session.add(user)
        db.session.commit()
        return user

    def staff(self, *roles, groups=(), email: str | None = None) -> User:
        email = email or f"staff{next(_seq)}@example.com"
        return users.create_staff(email, "Сотрудник Тестовый", roles or [policy.SPECIALIST], groups,
                                  password=PASSWORD, send_invitation=False)

    def account(self, number: str | None = None, code: str = "1234", owner: User | None = None,
                holder: str = "Тестов Тест Тестович", address: str = "г. Москва, ул. Тестовая, д. 1"):
        account = accounts.create(number or f"{7000000000 + next(_seq)}", holder, address, code)
        db.session.flush()
        if owner is not None:
            db.session.add(AccountAccess(account=account, user_id=owner.id, role=OWNER))
        db.session.commit()
        return account


class BillingFactory:
    """Tariffs, norms, premises, meters and readings for billing tests."""

    def __init__(self, app):
        self.app = app

    def tariff(self, valid_from, t1, t2=None, t3=None, zones=None, region="77", category="population_urban",
               resource="electricity"):
        from decimal import Decimal

        from app.models import Tariff

        zones = zones or (3 if t3 is not None else 2 if t2 is not None else 1)
        row = Tariff(region=region, category=category, resource=resource, zones=zones, valid_from=valid_from,
                     t1=Decimal(t1), t2=Decimal(t2) if t2 else None, t3=Decimal(t3) if t3 else None)
        db.session.add(row)
        db.session.commit()
        return row

    def norm(self, valid_from, per_resident, region="77", category="population_urban", resource="electricity"):
        from decimal import Decimal

        from app.models import ConsumptionNorm

        row = ConsumptionNorm(region=region, category=category, resource=resource, valid_from=valid_from,
                              per_resident=Decimal(per_resident))
        db.session.add(row)
        db.session.commit()
        return row

    def meter(self, account, zones=1, digits=6, installed_on=None, askue=False, resource="electricity",
              residents=2, initial=None, serial=None):
        from datetime import date
        from decimal import Decimal

        from app.models import Meter, MeterReading, Premises

        premises = db.session.scalar(select(Premises).where(Premises.account_id == account.id))
        if premises is None:
            premises = Premises(account_id=account.id, address=account.address, residents=residents)
            db.session.add(premises)
        installed_on = installed_on or date(2025, 1, 10)
        meter = Meter(premises=premises, resource=resource, model="Меркурий 201" if zones == 1 else "Меркурий 206",
                      serial=serial or f"S{next(_seq):08d}", zones=zones, digits=digits, installed_on=installed_on,
                      askue=askue)
        db.session.add(meter)
        db.session.flush()
        values = initial or {z: "0" for z in meter.zone_names}
        db.session.add(MeterReading(meter=meter, period=installed_on.replace(day=1), taken_on=installed_on,
                                    source="installation", status="billed",
                                    **{z.lower(): Decimal(v) for z, v in values.items()}))
        db.session.commit()
        return meter

    def reading(self, meter, period, taken_on=None, **values):
        from decimal import Decimal

        from app.services import readings

        return readings.record(meter, period, taken_on or period.replace(day=20),
                               {z: Decimal(str(v)) for z, v in values.items()}, "staff", None,
                               confirm_jump=True).reading

    def askue_point(self, meter, code=None, source=None, address=None, pmax_kw=None):
        from app.models import AskuePoint

        point = AskuePoint(meter_id=meter.id, code=code or meter.serial, source=source, address=address,
                           pmax_kw=pmax_kw)
        db.session.add(point)
        db.session.commit()
        return point
