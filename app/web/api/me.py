from flask_login import current_user
from flask_smorest import Blueprint

from app.web.api.schemas import UserSchema

blp = Blueprint("api_me", __name__, url_prefix="/api/v1", description="The current user")


@blp.get("/me")
@blp.response(200, UserSchema)
def me():
    """Who is calling: profile, roles and groups."""
    return current_user
