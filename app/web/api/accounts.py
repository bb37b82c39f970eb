from flask_login import current_user
from flask_smorest import Blueprint

from app.services import accounts
from app.web.api.schemas import AccountLinkSchema, AccountSchema, RepresentativeSchema

blp = Blueprint("api_accounts", __name__, url_prefix="/api/v1/accounts",
                description="Customer accounts (лицевые счета)")


def _with_role(account, role):
    return {**{name: getattr(account, name) for name in ("id", "number", "holder_name", "address", "is_closed")},
            "role": role}


@blp.get("")
@blp.response(200, AccountSchema(many=True))
def list_accounts():
    """The caller's accounts, with their role on each."""
    return [_with_role(account, role) for account, role in accounts.accounts_of(current_user)]


@blp.post("/link")
@blp.arguments(AccountLinkSchema)
@blp.response(201, AccountSchema)
def link_account(body):
    """Attach an account by its number and the verification code printed on the paper bill."""
    account = accounts.link(current_user, body["number"], body["code"])
    return _with_role(account, "owner")


@blp.get("/<int:account_id>")
@blp.response(200, AccountSchema)
def get_account(account_id):
    account = accounts.get_for(current_user, account_id)
    access = next((a for a in account.active_accesses() if a.user_id == current_user.id), None)
    return _with_role(account, access.role if access else None)


@blp.get("/<int:account_id>/people")
@blp.response(200, RepresentativeSchema(many=True))
def list_people(account_id):
    """Everyone who sees the account: the owner and representatives."""
    account = accounts.get_for(current_user, account_id)
    return [{"user_id": a.user_id, "email": a.user.email, "full_name": a.user.full_name, "role": a.role}
            for a in account.active_accesses()]


@blp.post("/<int:account_id>/representatives")
@blp.arguments(RepresentativeSchema)
@blp.response(201, RepresentativeSchema)
def add_representative(body, account_id):
    """The owner gives a registered customer access to the account."""
    access = accounts.add_representative(current_user, account_id, body["email"])
    return {"user_id": access.user_id, "email": access.user.email, "full_name": access.user.full_name,
            "role": access.role}


@blp.delete("/<int:account_id>/representatives/<int:user_id>")
@blp.response(204)
def remove_representative(account_id, user_id):
    accounts.remove_representative(current_user, account_id, user_id)
