from flask_login import current_user
from flask_smorest import Blueprint

from app import policy
from app.services import accounts
from app.web.api.schemas import AccountLinkSchema, AccountSchema, RepresentativeSchema

blp = Blueprint("api_accounts", __name__, url_prefix="/api/v1/accounts",
                description="Customer accounts (лицевые счета)")


def _with_role(account, role, access=None):
    ended = access is not None and access.valid_until is not None
    return {**{name: getattr(account, name) for name in ("id", "number", "address", "is_closed")},
            # Whose name the account is in now is not a previous owner's business.
            "holder_name": None if ended else account.holder_name,
            "role": role, "since": access.valid_from if access is not None else None,
            "transferred_on": access.valid_until if access is not None else None}


@blp.get("")
@blp.response(200, AccountSchema(many=True))
def list_accounts():
    """The caller's accounts, with their role on each; one that passed to a new owner has
    `transferred_on` and shows only its history before that day."""
    return [_with_role(access.account, access.role, access) for access in accounts.accesses_of(current_user)]


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
    access = account.access_of(current_user.id)
    return _with_role(account, access.role if access else None, access)


@blp.get("/<int:account_id>/people")
@blp.response(200, RepresentativeSchema(many=True))
def list_people(account_id):
    """Everyone who has the account now: the owner and representatives (a previous owner sees nobody)."""
    account = accounts.get_for(current_user, account_id)
    if not policy.can_act_on_account(current_user, account):
        return []
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
