from flask import Blueprint, current_app, jsonify

from app.services import health

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Database and broker reachability; 503 when either is down, so a load balancer drops the node."""
    problems = {"database": health.database(), "broker": health.broker()}
    body = {name: ("ok" if reason is None else "error") for name, reason in problems.items()}
    body["status"] = "ok" if all(reason is None for reason in problems.values()) else "error"
    for name, reason in problems.items():
        if reason:  # the reason may name hosts and users: it goes to the log, not to the public
            current_app.logger.warning("healthz: %s unreachable: %s", name, reason)
    return jsonify(body), 200 if body["status"] == "ok" else 503
