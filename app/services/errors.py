"""Errors the service layer raises. Each carries a message in the user's language and an HTTP status,
so the web pages show it at the field and the API turns it into application/problem+json."""


class ServiceError(Exception):
    status = 400
    code = "bad-request"

    def __init__(self, message, field: str | None = None, **details):
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.details = details


class InvalidInput(ServiceError):
    status = 422
    code = "invalid-input"


class NotFound(ServiceError):
    status = 404
    code = "not-found"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class TooManyAttempts(ServiceError):
    status = 429
    code = "too-many-attempts"


class AuthenticationFailed(ServiceError):
    status = 401
    code = "authentication-failed"
