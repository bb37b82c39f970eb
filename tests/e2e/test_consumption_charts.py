"""Customers with a single-zone and a dual-zone ASKUE meter open their consumption: month by day, a year by
month, drill down to a month and a day by clicking bars, switch to rubles and compare with last year;
the bars are drawn and the table's sums are the API's numbers."""
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.extensions import db
from app.services import askue_storage
from app.services.periods import local_today
from askue.series import Series
from tests.factories import BillingFactory, UserFactory
from tests.helpers import log_in

pytestmark = pytest.mark.e2e
MOSCOW = ZoneInfo("Europe/Moscow")


def _profile(day: date, base: int) -> list[int]:
    """Half-hours of a day: more in the evening, a little more each day of the month."""
    return [base + 10 * day.day + (200 if 36 <= slot < 44 else 0) for slot in range(48)]


@pytest.fixture(scope="module")
def customers(live_server):
    app = live_server["app"]
    with app.app_context():
        today = local_today()
        users, billing = UserFactory(app), BillingFactory(app)
        billing.tariff(date(2020, 1, 1), "7.00", "3.00")
        billing.tariff(date(2020, 1, 1), "6.00")
        made = {}
        for zones, email in ((1, "one.zone@example.com"), (2, "two.zones@example.com")):
            customer = users.customer(email=email)
            account = users.account(owner=customer)
            meter = billing.meter(account, zones=zones, askue=True, installed_on=date(today.year - 2, 1, 10))
            point = billing.askue_point(meter)
            series, day = [], today - timedelta(days=430)
            while day < today:
                start = datetime.combine(day, time(), MOSCOW)
                series.append(Series(point.code, "A+", start, 30, _profile(day, 100 * zones)))
                day += timedelta(days=1)
            askue_storage.store(series, askue_storage.point_index([point.code]))
            db.session.commit()
            made[zones] = {"email": email, "account_id": account.id, "meter_id": meter.id, "today": today}
        return made


def _after(page, action=None):
    """Do something on the page and wait until the chart has been drawn again from the answer to the
    last request it made (a fill may fire more than one)."""
    before = page.evaluate("Number(document.getElementById('consumption')?.dataset.loaded || 0)")
    if action:
        action()
    page.wait_for_function("(before) => { const root = document.getElementById('consumption');"
                           " return !!root && Number(root.dataset.loaded || 0) > before"
                           " && !root.hasAttribute('aria-busy'); }",
                           arg=before)


def _api(page, base, data, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = page.request.get(f"{base}/api/v1/accounts/{data['account_id']}/consumption?meter={data['meter_id']}&{query}")
    assert response.ok, response.text()
    return response.json()


def _sums(page) -> list[float | None]:
    """The sums row of the table, a column each (None where a column has no data)."""
    values = [cell.get_attribute("data-sum") for cell in page.locator("#chart-table tfoot td[data-sum]").all()]
    return [float(value) if value else None for value in values]


def _click_bar(page, index: int):
    """Click the middle of a bar of the first series, where ECharts puts it on the page."""
    x, y = page.evaluate("""(index) => {
        const chart = echarts.getInstanceByDom(document.getElementById('chart'));
        const option = chart.getOption();
        const top = option.series.filter(s => s.type === 'bar').reduce((sum, s) => {
            const item = s.data[index]; return sum + ((item && item.value) || 0); }, 0);
        return chart.convertToPixel({seriesIndex: 0}, [index, top / 2]);
    }""", index)
    box = page.locator("#chart").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)


@pytest.mark.parametrize("zones", [1, 2])
def test_views_units_drill_down_and_the_table_matches_the_api(browser, live_server, customers, zones):
    base, data = live_server["url"], customers[zones]
    today = data["today"]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, base, data["email"])
    _after(page, lambda: page.goto(f"{base}/cabinet/accounts/{data['account_id']}/consumption"))

    # This month by day: a row a day, bars drawn, the sum is the API's.
    first = today.replace(day=1)
    month = _api(page, base, data, **{"from": first, "to": (first + timedelta(days=31)).replace(day=1) - timedelta(days=1),
                                      "step": "day", "unit": "kwh"})
    assert page.locator("#chart-table tbody tr").count() == len(month["points"])
    assert page.locator("#chart svg path").count() > len([p for p in month["points"] if p["total"]])
    assert _sums(page)[-1] == pytest.approx(month["totals"]["total"])
    if zones == 2:
        assert _sums(page)[:2] == pytest.approx([month["totals"]["T1"], month["totals"]["T2"]])
        assert "T2 ночь" in page.locator("#chart").inner_text()

    # Rubles: the same days at the tariff.
    _after(page, lambda: page.get_by_text("рубли", exact=True).click())
    rubles = _api(page, base, data, **{"from": month["from"], "to": month["to"], "step": "day", "unit": "rub"})
    assert _sums(page)[-1] == pytest.approx(rubles["totals"]["total"])
    assert "₽" in page.locator("#chart-table thead").inner_text()
    _after(page, lambda: page.get_by_text("кВт·ч", exact=True).click())

    # Last year by month, compared with the year before; a click on a month opens it by day.
    _after(page, lambda: page.get_by_text("Год по месяцам", exact=True).click())
    _after(page, lambda: page.locator("#chart-date").fill(date(today.year - 1, 6, 15).isoformat()))
    _after(page, lambda: page.locator("#chart-compare").select_option("prev_year"))
    year = _api(page, base, data, **{"from": date(today.year - 1, 1, 1), "to": date(today.year - 1, 12, 31),
                                     "step": "month", "unit": "kwh", "compare": "prev_year"})
    assert page.locator("#chart-table tbody tr").count() == 12
    assert _sums(page)[-2] == pytest.approx(year["totals"]["total"])
    assert "год назад" in page.locator("#chart-table thead").inner_text()

    _after(page, lambda: _click_bar(page, 9))  # October of last year
    assert page.locator("#chart-date").input_value() == date(today.year - 1, 10, 1).isoformat()
    assert page.locator("#chart-table tbody tr").count() == 31
    _after(page, lambda: _click_bar(page, 4))  # 5 October
    assert page.locator("#chart-table tbody tr").count() == 24
    day = _api(page, base, data, **{"from": date(today.year - 1, 10, 5), "to": date(today.year - 1, 10, 5),
                                    "step": "hour", "unit": "kwh", "compare": "prev_year"})
    expected = sum(_profile(date(today.year - 1, 10, 5), 100 * zones)) / 1000
    assert day["totals"]["total"] == pytest.approx(expected)
    assert _sums(page)[-2] == pytest.approx(expected)
    context.close()


def test_the_page_fits_a_phone_and_offers_the_downloads(page, live_server, customers):
    base, data = live_server["url"], customers[2]
    log_in(page, base, data["email"])
    _after(page, lambda: page.goto(f"{base}/cabinet/accounts/{data['account_id']}/consumption"))
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth + 1")
    csv = page.request.get(base + page.locator("#download-csv").get_attribute("href").removeprefix(base))
    assert csv.ok and csv.headers["content-type"].startswith("text/csv")
    assert len(csv.text().strip().splitlines()) == page.locator("#chart-table tbody tr").count() + 1
