"""Shapes of API bodies, shared by the endpoints and the OpenAPI document."""
import marshmallow as ma


class UserSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    email = ma.fields.Email(dump_only=True)
    full_name = ma.fields.String(dump_only=True)
    phone = ma.fields.String(dump_only=True, allow_none=True)
    locale = ma.fields.String(dump_only=True, allow_none=True)
    roles = ma.fields.Method("get_roles", dump_only=True)
    groups = ma.fields.Method("get_groups", dump_only=True)

    def get_roles(self, user):
        return sorted(user.roles)

    def get_groups(self, user):
        return sorted(g.code for g in user.groups)


class AccountSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    number = ma.fields.String(dump_only=True)
    holder_name = ma.fields.String(dump_only=True)
    address = ma.fields.String(dump_only=True)
    is_closed = ma.fields.Boolean(dump_only=True)
    role = ma.fields.String(dump_only=True, metadata={"description": "owner or representative"})


class AccountLinkSchema(ma.Schema):
    number = ma.fields.String(required=True, metadata={"description": "account number from the bill"})
    code = ma.fields.String(required=True, metadata={"description": "verification code from the bill"})


class RepresentativeSchema(ma.Schema):
    user_id = ma.fields.Integer(dump_only=True)
    email = ma.fields.Email(required=True)
    full_name = ma.fields.String(dump_only=True)
    role = ma.fields.String(dump_only=True)


class TokenSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    name = ma.fields.String(required=True)
    prefix = ma.fields.String(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)
    expires_at = ma.fields.DateTime(dump_only=True, allow_none=True)
    last_used_at = ma.fields.DateTime(dump_only=True, allow_none=True)


class TokenCreateSchema(ma.Schema):
    name = ma.fields.String(required=True)
    days = ma.fields.Integer(load_default=365, allow_none=True,
                             metadata={"description": "lifetime in days; null for no expiry"})


class NewTokenSchema(TokenSchema):
    token = ma.fields.String(dump_only=True, metadata={"description": "shown only once"})
