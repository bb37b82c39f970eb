"""The consumption page: a frame for the chart that names its meter and the views it offers; someone
else's account is not found."""
from tests.factories import PASSWORD


def _customer_with_meters(client, users, billing):
    customer = users.customer()
    account = users.account(owner=customer)
    askue = billing.meter(account, zones=2, askue=True, serial="A-1")
    billing.askue_point(askue)
    manual = billing.meter(account, zones=1, serial="M-1")
    client.login(customer.email, PASSWORD)
    return account, askue, manual


def test_an_askue_meter_offers_day_month_and_year(client, users, billing):
    account, askue, manual = _customer_with_meters(client, users, billing)
    page = client.get(f"/cabinet/accounts/{account.id}/consumption").get_data(as_text=True)
    assert f'data-meter="{askue.id}"' in page and 'data-askue="true"' in page
    assert 'id="view-day"' in page and 'id="view-month"' in page and 'id="view-year"' in page
    assert 'id="zones-apart"' in page  # a chart per zone for the two-zone meter
    assert f"meter={manual.id}" in page  # the other meter is one click away
    assert "vendor/echarts.min.js" in page and "<script>" not in page  # no inline scripts under the CSP


def test_a_meter_without_askue_is_shown_by_month_only(client, users, billing):
    account, _, manual = _customer_with_meters(client, users, billing)
    page = client.get(f"/cabinet/accounts/{account.id}/consumption?meter={manual.id}").get_data(as_text=True)
    assert 'data-askue="false"' in page and 'id="view-day"' not in page and 'id="view-year"' in page


def test_someone_elses_account_or_meter_is_not_found(client, users, billing):
    account, _, _ = _customer_with_meters(client, users, billing)
    stranger = users.account()
    assert client.get(f"/cabinet/accounts/{stranger.id}/consumption").status_code == 404
    assert client.get(f"/cabinet/accounts/{account.id}/consumption?meter=999999").status_code == 404
