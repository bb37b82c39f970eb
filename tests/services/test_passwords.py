import pytest

from app import create_app
from app.services import passwords


@pytest.fixture(scope="module")
def ctx():
    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")
    with app.test_request_context():
        yield


@pytest.mark.parametrize("candidate", ["short1", "a" * 129 + "1", "onlyletters", "0123456789012",
                                       "qwerty12345", "aaaa1111aaaa", "ivanov2026ok"])
def test_weak_passwords_are_refused(ctx, candidate):
    assert passwords.weakness(candidate, "ivanov@example.com")


@pytest.mark.parametrize("candidate", ["Sunny-meadow-2026", "тёплый-дом-42", "correct horse 7 battery"])
def test_good_passwords_pass(ctx, candidate):
    assert passwords.weakness(candidate, "ivanov@example.com") is None


def test_hash_is_argon2id_and_verifies(ctx):
    stored = passwords.hash_password("Sunny-meadow-2026")
    assert stored.startswith("$argon2id$")
    assert passwords.verify_password(stored, "Sunny-meadow-2026")
    assert not passwords.verify_password(stored, "sunny-meadow-2026")
    assert not passwords.verify_password("garbage", "x") and not passwords.verify_password(None, "x")
