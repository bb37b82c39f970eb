"""Steps the process tests take in the browser again and again, as a person does them: file an
application through its guide, take a task from the group's queue, answer on the case page, and read
the documents a case offers."""
from tests.documents import docx_text, pdf_text


def start_application(page, base, process_name):
    """From the list of applications through the process's guide to its empty form."""
    page.goto(f"{base}/cases/new")
    page.get_by_role("region", name=process_name, exact=True).get_by_role("link").click()
    page.get_by_role("link", name="Начать заполнение заявки").click()


def to_check_page(page):
    page.get_by_role("button", name="Продолжить").click()
    page.get_by_role("heading", name="Проверьте ответы").wait_for()
    return page.locator("dl").inner_text()


def submit_application(page) -> str:
    """Submit from the check page; returns the case number the confirmation shows."""
    page.get_by_role("button", name="Подать заявку").click()
    return page.get_by_role("status").filter(has_text="Ваша заявка подана").locator("strong").inner_text()


def take_task(page, base, number):
    """Take the case's task from "my groups' tasks"; the task's page opens."""
    page.goto(f"{base}/tasks/?scope=groups")
    page.get_by_role("row").filter(has_text=number).get_by_role("button", name="Взять").first.click()


def finish_task(page, number):
    page.get_by_role("button", name="Завершить задачу").click()
    page.get_by_role("status").filter(has_text=number).wait_for()


def answer_on_case_page(page):
    page.get_by_role("button", name="Отправить", exact=True).click()
    page.get_by_role("status").filter(has_text="ответ получен").wait_for()


def document_texts(page, base, name=""):
    """The text of the case page's PDF and DOCX downloads whose link mentions `name`: {".pdf": ..., ".docx": ...}."""
    texts = {}
    for extension, read in ((".pdf", pdf_text), (".docx", docx_text)):
        link = page.get_by_role("link", name="Скачать").filter(has_text=f"{name}").filter(has_text=extension).first
        response = page.context.request.get(f"{base}{link.get_attribute('href')}")
        assert response.ok, response.status
        texts[extension] = read(response.body())
    return texts
