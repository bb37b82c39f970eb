from flask_login import current_user
from flask_smorest import Blueprint

from app.services import api_tokens
from app.web.api.schemas import NewTokenSchema, TokenCreateSchema, TokenSchema

blp = Blueprint("api_tokens", __name__, url_prefix="/api/v1/tokens", description="Personal access tokens")


@blp.get("")
@blp.response(200, TokenSchema(many=True))
def list_tokens():
    return api_tokens.active(current_user)


@blp.post("")
@blp.arguments(TokenCreateSchema)
@blp.response(201, NewTokenSchema)
def create_token(body):
    """Create a token; its value is in this answer only."""
    row, token = api_tokens.create(current_user, body["name"], body.get("days"))
    row.token = token  # not a column: carried to this one answer only
    return row


@blp.delete("/<int:token_id>")
@blp.response(204)
def revoke_token(token_id):
    api_tokens.revoke(current_user, token_id)
