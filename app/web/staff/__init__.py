"""The staff workplace: an overview and the account look-up."""
from flask import Blueprint, render_template, request
from flask_login import current_user
from sqlalchemy import func, select

from app import policy
from app.extensions import db
from app.models import Account, AuditEvent, User, UserRole
from app.policy import require
from app.services import accounts

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.get("/")
@require("staff.home")
def home():
    counts = {
        "customers": db.session.scalar(select(func.count()).select_from(UserRole)
                                       .where(UserRole.role == policy.CUSTOMER)),
        "accounts": db.session.scalar(select(func.count()).select_from(Account)),
    }
    recent = []
    if policy.has_permission(current_user, "audit.read"):
        recent = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(10)).all()
    newest = db.session.scalars(
        select(User).join(UserRole).where(UserRole.role == policy.CUSTOMER)
        .order_by(User.created_at.desc()).limit(5)
    ).all()
    return render_template("staff/home.html", counts=counts, recent=recent, newest=newest)


@bp.get("/accounts", endpoint="accounts")
@require("accounts.read_any")
def accounts_search():
    query = request.args.get("q", "")
    return render_template("staff/accounts.html", query=query, results=accounts.search(query))


@bp.get("/accounts/<int:account_id>")
@require("accounts.read_any")
def account(account_id):
    return render_template("staff/account.html", account=accounts.get_for(current_user, account_id))


from app.web.staff import (askue, askue_groups, billing, disclosure, disclosure_capacity,  # noqa: E402,F401
                           disclosure_compliance, exchange, payments, rates)  # (views register on bp)
