"""Fixtures that put the app in front of a provider's stand-in on loopback (import the fixture into a
test module to use it)."""
import pytest

from integrations.payments.simulators.yookassa import YooKassaSimulator


@pytest.fixture
def yookassa(app):
    """YooKassa's stand-in, with the app configured to pay through it and to trust its notifications."""
    with YooKassaSimulator() as stand_in:
        app.config.update(PAYMENT_PROVIDERS=("yookassa",), YOOKASSA_SHOP_ID=stand_in.shop_id,
                          YOOKASSA_SECRET_KEY=stand_in.secret_key, YOOKASSA_URL=stand_in.url,
                          YOOKASSA_NETWORKS=["127.0.0.0/8"], PUBLIC_URL="http://127.0.0.1:5000")
        yield stand_in
