"""Customer accounts: linking by number and bill code, representatives, and who sees what."""
import hashlib
import hmac
import re

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from app import policy
from app.extensions import db
from app.models import OWNER, REPRESENTATIVE, Account, AccountAccess, User
from app.models.types import utcnow
from app.services import audit, throttle
from app.services.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyAttempts
from app.services.periods import local_today

NUMBER_RE = re.compile(r"^\d{6,20}$")


def code_hash(code: str) -> str:
    """Keyed hash of a bill code: the codes are short, so a plain hash would be trivial to reverse."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, code.strip().encode(), hashlib.sha256).hexdigest()


def clean_number(number: str) -> str:
    number = re.sub(r"[\s-]", "", number or "")
    if not NUMBER_RE.match(number):
        raise InvalidInput(_l("An account number has 6 to 20 digits; it is printed at the top of the bill."),
                           field="number")
    return number


def accesses_of(user: User) -> list[AccountAccess]:
    """A customer's rights to accounts, current and ended (a previous owner's history), oldest link
    first; revoked ones are left out."""
    return list(db.session.scalars(
        select(AccountAccess).join(Account, AccountAccess.account_id == Account.id)
        .where(AccountAccess.user_id == user.id, AccountAccess.revoked_at.is_(None))
        .order_by(AccountAccess.granted_at, Account.id)))


def accounts_of(user: User) -> list[tuple[Account, str]]:
    """The accounts a customer has now, with their role on each, oldest link first: what they may
    act on (send readings, file applications). An account that passed to a new owner is not here."""
    today = local_today()
    return [(access.account, access.role) for access in accesses_of(user) if access.covers(today)]


def get_for(user: User, account_id: int) -> Account:
    """An account the user may see. Someone else's account answers exactly like a missing one."""
    account = db.session.get(Account, account_id)
    if account is None or not policy.can_view_account(user, account):
        if account is not None:
            audit.record("access.denied", actor=user, obj=account, outcome="denied", commit=True)
        raise NotFound(_l("No such account among yours."))
    return account


def link(user: User, number: str, code: str) -> Account:
    """Attach an account to a customer by the number and the verification code from the paper bill."""
    number = clean_number(number)
    if not code or not code.strip():
        raise InvalidInput(_l("Enter the verification code from the bill."), field="code")
    if throttle.account_link_blocked(user.id):
        audit.record("account.link", actor=user, outcome="throttled", details={"number": number}, commit=True)
        raise TooManyAttempts(_l("Too many wrong codes. Try again in an hour or call the support service."))
    account = db.session.scalar(select(Account).where(Account.number == number))
    if account is None or not hmac.compare_digest(account.verification_code_hash, code_hash(code)):
        audit.record("account.link", actor=user, outcome="failed", details={"number": number}, commit=True)
        raise InvalidInput(_l("The account number or the code does not match our records. "
                              "Check them against your latest bill."), field="code")
    existing = next((a for a in account.accesses if a.user_id == user.id), None)
    if existing is not None and existing.is_current(local_today()):
        raise Conflict(_l("This account is already in your list."), field="number")
    owner = account.owner_access()
    if owner is not None:
        audit.record("account.link", actor=user, obj=account, outcome="refused", details={"reason": "has-owner"},
                     commit=True)
        raise Conflict(_l("This account already has an owner in the portal. Ask them to add you as a "
                          "representative."), field="number")
    if existing is not None:
        existing.revoked_at, existing.role, existing.granted_at = None, OWNER, utcnow()
        existing.valid_until = None
    else:
        db.session.add(AccountAccess(account=account, user_id=user.id, role=OWNER))
    audit.record("account.link", actor=user, obj=account, details={"role": OWNER})
    db.session.commit()
    return account


def _owned_by(actor: User, account_id: int) -> Account:
    account = get_for(actor, account_id)
    if not policy.can_manage_account(actor, account):
        audit.record("access.denied", actor=actor, obj=account, outcome="denied",
                     details={"reason": "not-owner"}, commit=True)
        raise Forbidden(_l("Only the account owner manages its representatives."))
    return account


def add_representative(actor: User, account_id: int, email: str) -> AccountAccess:
    account = _owned_by(actor, account_id)
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or policy.CUSTOMER not in user.roles:
        raise InvalidInput(_l("No customer is registered with this e-mail. Ask them to register first."),
                           field="email")
    access = next((a for a in account.accesses if a.user_id == user.id), None)
    if access is not None and access.is_current(local_today()):
        raise Conflict(_l("This person already has access to the account."), field="email")
    # A representative sees what the owner who added them sees: the account from the owner's first day.
    since = account.owner_access().valid_from
    if access is None:
        access = AccountAccess(account=account, user_id=user.id, role=REPRESENTATIVE, granted_by_id=actor.id,
                               valid_from=since)
        db.session.add(access)
    else:
        access.revoked_at, access.role, access.granted_by_id = None, REPRESENTATIVE, actor.id
        access.granted_at, access.valid_from, access.valid_until = utcnow(), since, None
    db.session.flush()
    audit.record("account.representative.add", actor=actor, obj=account, details={"user_id": user.id})
    db.session.commit()
    return access


def remove_representative(actor: User, account_id: int, user_id: int) -> None:
    account = _owned_by(actor, account_id)
    access = next((a for a in account.active_accesses() if a.user_id == user_id and a.role == REPRESENTATIVE),
                  None)
    if access is None:
        raise NotFound(_l("This person is not a representative of the account."))
    access.revoked_at = utcnow()
    audit.record("account.representative.remove", actor=actor, obj=account, details={"user_id": user_id})
    db.session.commit()


def search(query: str, limit: int = 50) -> list[Account]:
    """Staff look-up by account number, holder or address."""
    query = (query or "").strip()
    if len(query) < 2:
        return []
    like = f"%{query}%"
    return list(db.session.scalars(
        select(Account).where(or_(Account.number.like(f"{query}%"), Account.holder_name.ilike(like),
                                  Account.address.ilike(like)))
        .order_by(Account.number).limit(limit)
    ))


def create(number: str, holder_name: str, address: str, code: str) -> Account:
    """Open an account (from the billing import or the demo data)."""
    account = Account(number=clean_number(number), holder_name=holder_name, address=address,
                      verification_code_hash=code_hash(code))
    db.session.add(account)
    return account
