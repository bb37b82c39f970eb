"""Users and accounts made through the same services the app uses."""
import itertools

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
