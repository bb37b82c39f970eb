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
    since = ma.fields.Date(dump_only=True, allow_none=True,
                           metadata={"description": "the account passed to its present owner on this day: "
                                                    "its history is shown from it"})
    transferred_on = ma.fields.Date(dump_only=True, allow_none=True,
                                    metadata={"description": "the account passed to a new owner on this day: the "
                                                             "caller sees its history before it, read-only"})


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


class ReadingSchema(ma.Schema):
    id = ma.fields.Integer()
    meter_id = ma.fields.Integer()
    period = ma.fields.Date()
    taken_on = ma.fields.Date()
    values = ma.fields.Method("get_values", metadata={"description": "value per zone, e.g. {\"T1\": \"1234.5\"}"})
    source = ma.fields.String()
    status = ma.fields.String()
    reason = ma.fields.String(allow_none=True)

    def get_values(self, reading):
        return {zone: f"{value:.3f}" for zone, value in reading.values().items()}


class MeterSchema(ma.Schema):
    id = ma.fields.Function(lambda row: row["meter"].id)
    resource = ma.fields.Function(lambda row: row["meter"].resource)
    model = ma.fields.Function(lambda row: row["meter"].model)
    serial = ma.fields.Function(lambda row: row["meter"].serial)
    zones = ma.fields.Function(lambda row: row["meter"].zone_names)
    digits = ma.fields.Function(lambda row: row["meter"].digits)
    askue = ma.fields.Function(lambda row: row["meter"].askue)
    next_verification_on = ma.fields.Function(lambda row: row["meter"].next_verification_on)
    last_reading = ma.fields.Nested(ReadingSchema, allow_none=True)


class ReadingSubmitSchema(ma.Schema):
    values = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True)
    confirm = ma.fields.Boolean(load_default=False)


class SubmittedSchema(ma.Schema):
    reading = ma.fields.Nested(ReadingSchema)
    period = ma.fields.Date()
    outside_window = ma.fields.Boolean()
    corrected = ma.fields.Boolean()


class BillSchema(ma.Schema):
    period = ma.fields.Date()
    charged = ma.fields.Decimal(as_string=True)
    due_date = ma.fields.Date()


class AccrualSchema(ma.Schema):
    period = ma.fields.Date()
    meter_id = ma.fields.Integer(allow_none=True)
    resource = ma.fields.String()
    zone = ma.fields.String()
    basis = ma.fields.String(metadata={"description": "reading | average | normative | recalculation | correction"})
    quantity = ma.fields.Decimal(as_string=True)
    price = ma.fields.Decimal(as_string=True, allow_none=True)
    amount = ma.fields.Decimal(as_string=True)
    days = ma.fields.Integer(allow_none=True)
    details = ma.fields.Dict()


class DebtPeriodSchema(ma.Schema):
    period = ma.fields.Date()
    kind = ma.fields.String()
    due_date = ma.fields.Date(allow_none=True)
    charged = ma.fields.Decimal(as_string=True)
    paid = ma.fields.Decimal(as_string=True)
    outstanding = ma.fields.Decimal(as_string=True)


class PenaltyLineSchema(ma.Schema):
    tranche = ma.fields.Decimal(as_string=True)
    paid_on = ma.fields.Date(allow_none=True)
    start = ma.fields.Date()
    end = ma.fields.Date()
    days = ma.fields.Integer()
    divisor = ma.fields.Integer()
    rate = ma.fields.Decimal(as_string=True)
    amount = ma.fields.Decimal(as_string=True)


class PenaltyResultSchema(ma.Schema):
    total = ma.fields.Decimal(as_string=True)
    lines = ma.fields.List(ma.fields.Nested(PenaltyLineSchema))


class DebtPenaltySchema(PenaltyResultSchema):
    period = ma.fields.Date()
    due_date = ma.fields.Date()


class DebtSchema(ma.Schema):
    as_of = ma.fields.Date()
    debt = ma.fields.Decimal(as_string=True)
    advance = ma.fields.Decimal(as_string=True)
    balance = ma.fields.Decimal(as_string=True)
    penalties_accrued = ma.fields.Decimal(as_string=True)
    penalties_billed = ma.fields.Decimal(as_string=True)
    periods = ma.fields.List(ma.fields.Nested(DebtPeriodSchema))
    penalties = ma.fields.List(ma.fields.Nested(DebtPenaltySchema))


class PaymentSchema(ma.Schema):
    id = ma.fields.Integer()
    booked_on = ma.fields.Date()
    amount = ma.fields.Function(lambda e: str(-e.amount))
    source = ma.fields.String()
    chosen_period = ma.fields.Date(allow_none=True)
    for_penalties = ma.fields.Boolean()
    description = ma.fields.String(allow_none=True)


class PenaltyQuerySchema(ma.Schema):
    amount = ma.fields.String(required=True, metadata={"description": "debt in rubles, e.g. \"5000.00\""})
    due_date = ma.fields.Date(required=True)
    paid_on = ma.fields.Date(required=True, metadata={"description": "payment date, or the date to count to"})
    scheme = ma.fields.String(load_default="household", metadata={"description": "household | legal | legal_utility"})


class EstimateSchema(ma.Schema):
    region = ma.fields.String(required=True)
    category = ma.fields.String(required=True)
    resource = ma.fields.String(load_default="electricity")
    month = ma.fields.Date(required=True, metadata={"description": "any day of the month"})
    quantities = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True,
                                metadata={"description": "consumption per zone, e.g. {\"T1\": \"200\", \"T2\": \"80\"}"})


class EstimateLineSchema(ma.Schema):
    zone = ma.fields.String()
    quantity = ma.fields.Decimal(as_string=True)
    price = ma.fields.Decimal(as_string=True)
    amount = ma.fields.Decimal(as_string=True)
    days = ma.fields.Function(lambda line: line.segment.days)


class CaseSchema(ma.Schema):
    number = ma.fields.String()
    process = ma.fields.Function(lambda c: c.definition.key)
    process_name = ma.fields.Function(lambda c: c.definition.name)
    version = ma.fields.Function(lambda c: c.definition.version)
    status = ma.fields.String(metadata={"description": "open | closed | cancelled"})
    status_label = ma.fields.String()
    opened_at = ma.fields.DateTime()
    closed_at = ma.fields.DateTime(allow_none=True)
    due_at = ma.fields.DateTime(allow_none=True)
    account_id = ma.fields.Integer(allow_none=True)


class CaseStartSchema(ma.Schema):
    process = ma.fields.String(required=True)
    account_id = ma.fields.Integer(load_default=None, allow_none=True)
    values = ma.fields.Dict(load_default=dict, metadata={"description": "the start form's fields"})


class HumanTaskSchema(ma.Schema):
    id = ma.fields.Integer()
    case = ma.fields.Function(lambda t: t.case.number)
    spec = ma.fields.String()
    title = ma.fields.String()
    form_key = ma.fields.String(allow_none=True)
    candidate_group = ma.fields.String(allow_none=True)
    actor = ma.fields.String()
    assignee_id = ma.fields.Integer(allow_none=True)
    status = ma.fields.String()
    due_at = ma.fields.DateTime(allow_none=True)


class TaskCompleteSchema(ma.Schema):
    values = ma.fields.Dict(required=True, metadata={"description": "the task form's fields"})


class CaseEventSchema(ma.Schema):
    at = ma.fields.DateTime()
    kind = ma.fields.String()
    from_status = ma.fields.String(allow_none=True)
    to_status = ma.fields.String(allow_none=True)
    details = ma.fields.Dict()


class CaseDocumentSchema(ma.Schema):
    id = ma.fields.Integer()
    title = ma.fields.String()
    filename = ma.fields.String()
    content_type = ma.fields.String()
    size = ma.fields.Integer()
    sha256 = ma.fields.String()
    created_at = ma.fields.DateTime()
