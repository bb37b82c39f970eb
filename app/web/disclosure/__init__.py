"""The public disclosure section (no login): standards, categories, documents and their archive,
search, the generated items, and the machine-readable index and feed for regulators' robots."""
from flask import Blueprint

bp = Blueprint("disclosure", __name__, url_prefix="/disclosure")

from app.web.disclosure import feeds, generated, pages  # noqa: E402,F401  (they add their routes to bp)
