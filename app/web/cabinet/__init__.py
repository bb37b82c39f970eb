"""The customer's personal account: accounts, readings, accruals, debt, payments and bills."""
from flask import Blueprint

bp = Blueprint("cabinet", __name__, url_prefix="/cabinet")

from app.web.cabinet import accounts, consumption, money, readings  # noqa: E402,F401  (views register on bp)
