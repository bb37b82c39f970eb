"""What generated task forms say to people, in Russian and English.

These texts live here rather than in the gettext catalog: a form is data, built in the language it is
asked for, and its messages must follow the form's language even where the request's differs.
"""
from datetime import date
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_decimal

MESSAGES: dict[str, dict[str, str]] = {
    "required": {"ru": "Заполните это поле.", "en": "Fill in this field."},
    "required_choice": {"ru": "Выберите значение.", "en": "Choose a value."},
    "required_file": {"ru": "Приложите файл.", "en": "Attach a file."},
    "required_rows": {"ru": "Заполните хотя бы одну строку.", "en": "Fill in at least one row."},
    "min_length": {"ru": "Минимальная длина — {min} симв.", "en": "Enter at least {min} characters."},
    "max_length": {"ru": "Максимальная длина — {max} симв.", "en": "Enter at most {max} characters."},
    "pattern": {"ru": "Значение не подходит по формату.", "en": "The value does not match the expected format."},
    "integer": {"ru": "Введите целое число.", "en": "Enter a whole number."},
    "decimal": {"ru": "Введите число, например 12,5.", "en": "Enter a number, e.g. 12.5."},
    "date": {"ru": "Введите дату в формате ДД.ММ.ГГГГ.", "en": "Enter a date as YYYY-MM-DD."},
    "min_number": {"ru": "Значение должно быть не меньше {min}.", "en": "The value must be at least {min}."},
    "max_number": {"ru": "Значение должно быть не больше {max}.", "en": "The value must be at most {max}."},
    "min_date": {"ru": "Дата должна быть не раньше {min}.", "en": "The date must not be earlier than {min}."},
    "max_date": {"ru": "Дата должна быть не позже {max}.", "en": "The date must not be later than {max}."},
    "past_date": {"ru": "Дата не может быть в прошлом.", "en": "The date cannot be in the past."},
    "future_date": {"ru": "Дата не может быть в будущем.", "en": "The date cannot be in the future."},
    "choice": {"ru": "Выберите значение из списка.", "en": "Choose a value from the list."},
    "file_type": {"ru": "Файл должен быть в формате {types}.", "en": "The file must be a {types}."},
    "file_size": {"ru": "Файл больше {max_mb} МБ.", "en": "The file is larger than {max_mb} MB."},
    "file_empty": {"ru": "Файл пустой.", "en": "The file is empty."},
    "rows_min": {"ru": "Минимальное число строк — {min}.", "en": "The table needs at least {min} rows."},
    "rows_max": {"ru": "Максимальное число строк — {max}.", "en": "The table can have at most {max} rows."},
    "row_errors": {"ru": "Исправьте ошибки в строках таблицы.", "en": "Correct the errors in the table rows."},
    "choose": {"ru": "— выберите —", "en": "— choose —"},
    "yes": {"ru": "Да", "en": "Yes"},
    "no": {"ru": "Нет", "en": "No"},
    "row": {"ru": "строка {n}", "en": "row {n}"},
    "or": {"ru": "или", "en": "or"},
}


def message(key: str, locale: str, **params) -> str:
    return MESSAGES[key][locale].format(**params)


def number(value: int | Decimal, locale: str) -> str:
    return format_decimal(value, locale=locale)


def day(value: date, locale: str) -> str:
    return format_date(value, "long", locale=locale)


def one_of(items: list[str], locale: str) -> str:
    """"JPEG, PNG или PDF" — the way a person lists alternatives."""
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} {message('or', locale)} {items[-1]}"
