"""Public calculators: no authentication."""
from flask_smorest import Blueprint

from app.services import calculators
from app.services.periods import period_of
from app.web.api.schemas import EstimateLineSchema, EstimateSchema, PenaltyQuerySchema, PenaltyResultSchema

blp = Blueprint("api_calculators", __name__, url_prefix="/api/v1/calculators",
                description="Public calculators (no authentication)")


@blp.post("/penalty")
@blp.arguments(PenaltyQuerySchema)
@blp.response(200, PenaltyResultSchema)
def penalty(body):
    """Penalties on a debt paid (or counted) on a date, with the calculation lines."""
    return calculators.penalty(body["amount"], body["due_date"], body["paid_on"], body.get("scheme", "household"))


@blp.post("/bill")
@blp.arguments(EstimateSchema)
@blp.response(200, EstimateLineSchema(many=True))
def bill(body):
    """A bill estimate: consumption by zones at the tariffs of the month."""
    return calculators.estimate(body["region"], body["category"], body.get("resource", "electricity"),
                                body["quantities"], period_of(body["month"]))
