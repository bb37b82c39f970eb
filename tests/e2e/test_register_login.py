"""A new customer registers, confirms the address, logs in, switches to English and logs out,
on a phone-sized screen in Chromium."""
import email
import email.policy

import pytest

pytestmark = pytest.mark.e2e


def confirmation_link(mail_folder, address: str) -> str:
    for path in sorted(mail_folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns, reverse=True):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == address:
            return next(line for line in message.get_content().splitlines() if line.startswith("http"))
    raise AssertionError(f"no letter to {address}")


def test_register_log_in_switch_language_log_out(page, live_server):
    base = live_server["url"]
    page.goto(f"{base}/auth/register")
    assert page.get_attribute("html", "lang") == "ru"

    # A weak password is refused at the field and what was typed stays.
    page.get_by_label("ФИО").fill("Соколова Вера Андреевна")
    page.get_by_label("Электронная почта").fill("vera@example.com")
    page.get_by_label("Пароль", exact=True).fill("short")
    page.get_by_label("Повторите пароль").fill("short")
    page.get_by_role("button", name="Зарегистрироваться").click()
    assert page.locator("#password-error").is_visible()
    assert page.get_by_label("ФИО").input_value() == "Соколова Вера Андреевна"

    page.get_by_label("Пароль", exact=True).fill("Spring-garden-2026")
    page.get_by_label("Повторите пароль").fill("Spring-garden-2026")
    page.get_by_role("button", name="Зарегистрироваться").click()
    page.get_by_text("vera@example.com").first.wait_for()

    page.goto(confirmation_link(live_server["mail"], "vera@example.com"))
    assert page.url.endswith("/auth/login")
    page.get_by_role("status").first.wait_for()

    page.get_by_label("Электронная почта").fill("vera@example.com")
    page.get_by_label("Пароль").fill("Spring-garden-2026")
    page.get_by_label("Пароль").press("Enter")  # the keyboard alone is enough
    page.wait_for_url(f"{base}/cabinet/")
    assert page.get_by_role("heading", name="Мои лицевые счета").is_visible()
    # Nothing wider than the phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    page.get_by_role("button", name="Открыть меню").click()
    page.get_by_role("button", name="English").click()
    page.get_by_role("heading", name="My accounts").wait_for()
    assert page.get_attribute("html", "lang") == "en"

    page.get_by_role("button", name="Open the menu").click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{base}/auth/login")
    assert page.get_by_role("heading", name="Log in").is_visible()
    page.goto(f"{base}/cabinet/")
    assert "/auth/login" in page.url


def test_skip_link_is_the_first_stop_for_the_keyboard(page, live_server):
    page.goto(f"{live_server['url']}/")  # a page without an autofocused field
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#main"
