"""Settings, read from the environment once at start-up.

Every setting has a default that is safe where it applies: development defaults point at files under
`instance/`, while production refuses to start without a real SECRET_KEY.
"""
import os
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path(os.environ.get("GRIDCASE_INSTANCE", ROOT / "instance"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


class Config:
    ENV_NAME = "production"
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE / 'gridcase.sqlite'}")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    TIMEZONE = os.environ.get("TIMEZONE", "Europe/Moscow")
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000")
    COMPANY_NAME = os.environ.get("COMPANY_NAME", "АО «ГридКейс Энерго»")
    # Payment details printed on bills and in the payment QR code (ГОСТ Р 56042-2014).
    COMPANY_INN = os.environ.get("COMPANY_INN", "7700000000")
    COMPANY_KPP = os.environ.get("COMPANY_KPP", "770001001")
    COMPANY_ADDRESS = os.environ.get("COMPANY_ADDRESS", "115035, г. Москва, ул. Садовническая, д. 1")
    COMPANY_PHONE = os.environ.get("COMPANY_PHONE", "+7 495 000-00-00")
    COMPANY_BANK = os.environ.get("COMPANY_BANK", "ПАО Сбербанк")
    COMPANY_BIC = os.environ.get("COMPANY_BIC", "044525225")
    COMPANY_ACCOUNT = os.environ.get("COMPANY_ACCOUNT", "40702810900000000001")
    COMPANY_CORR_ACCOUNT = os.environ.get("COMPANY_CORR_ACCOUNT", "30101810400000000225")

    # Celery: an embedded SQLite-backed broker unless told otherwise (RabbitMQ in production).
    CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", f"sqla+sqlite:///{INSTANCE / 'celery-broker.sqlite'}")
    CELERY_RESULT_BACKEND = os.environ.get(
        "CELERY_RESULT_BACKEND", f"db+sqlite:///{INSTANCE / 'celery-results.sqlite'}"
    )
    CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)

    # Mail: smtp://user:password@host:port (smtps:// for TLS) or file:///path to write .eml files.
    MAIL_URL = os.environ.get("MAIL_URL", f"file://{INSTANCE / 'mail'}")
    MAIL_FROM = os.environ.get("MAIL_FROM", "GridCase <noreply@gridcase.example>")

    # Sessions and authentication.
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=env_int("SESSION_HOURS", 12))
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5)
    LOGIN_LOCK_MINUTES = env_int("LOGIN_LOCK_MINUTES", 15)
    LOGIN_IP_MAX_FAILURES = env_int("LOGIN_IP_MAX_FAILURES", 30)
    ACCOUNT_LINK_MAX_FAILURES = env_int("ACCOUNT_LINK_MAX_FAILURES", 5)
    EMAIL_TOKEN_HOURS = env_int("EMAIL_TOKEN_HOURS", 72)
    RESET_TOKEN_MINUTES = env_int("RESET_TOKEN_MINUTES", 60)
    # Argon2 cost: the library's defaults (RFC 9106 low-memory profile) unless lowered for tests.
    ARGON2_TIME_COST = env_int("ARGON2_TIME_COST", 3)
    ARGON2_MEMORY_COST = env_int("ARGON2_MEMORY_COST", 65536)

    # Meter readings and estimates (ПП 354): the company's submission window and the average rule.
    # Technological connection (ПП 861), the settings its rules leave to the company or that are not
    # confirmed: working days to fix missing documents, to place the offer and to pay the invoice; the
    # distances that decide the preferential fee and the term; VAT in the rates. (The 3 working days of
    # the completeness check are the task's slaDays in the diagram.)
    TP_FIX_DAYS = env_int("TP_FIX_DAYS", 20)
    TP_PLACEMENT_DAYS = env_int("TP_PLACEMENT_DAYS", 10)
    TP_INVOICE_DAYS = env_int("TP_INVOICE_DAYS", 5)
    TP_PREFERENTIAL_DISTANCE_URBAN_M = env_int("TP_PREFERENTIAL_DISTANCE_URBAN_M", 300)
    TP_PREFERENTIAL_DISTANCE_RURAL_M = env_int("TP_PREFERENTIAL_DISTANCE_RURAL_M", 500)
    TP_SHORT_DISTANCE_M = env_int("TP_SHORT_DISTANCE_M", 15)
    TP_TERM_SMALL_MONTHS = env_int("TP_TERM_SMALL_MONTHS", 6)
    TP_CONDITIONS_VALID_YEARS = env_int("TP_CONDITIONS_VALID_YEARS", 2)
    VAT_RATE = env_int("VAT_RATE", 20)
    # The state system that collects TP data (our WSDL in integrations/gis_tp); empty: submissions wait.
    GIS_TP_URL = os.environ.get("GIS_TP_URL", "")
    GIS_TP_TIMEOUT = env_int("GIS_TP_TIMEOUT", 20)

    # Online payments: the providers offered to customers, in this order (yookassa, tbank, sber), their
    # credentials and addresses; pending payments older than the reconcile minutes are asked about.
    PAYMENT_PROVIDERS = tuple(p for p in os.environ.get("PAYMENT_PROVIDERS", "").split(",") if p)
    PAYMENT_TIMEOUT = env_int("PAYMENT_TIMEOUT", 15)
    # Where the providers' payment pages live (the pay form may lead there; the API hosts are added).
    PAYMENT_PAGE_ORIGINS = tuple(os.environ.get(
        "PAYMENT_PAGE_ORIGINS", "https://yoomoney.ru https://securepay.tinkoff.ru https://securepayments.sberbank.ru").split())
    PAYMENT_RECONCILE_MINUTES = env_int("PAYMENT_RECONCILE_MINUTES", 15)
    # The same payment asked for again within these seconds (a double click) is the same payment.
    PAYMENT_REPEAT_SECONDS = env_int("PAYMENT_REPEAT_SECONDS", 60)
    # 54-ФЗ receipt data sent with every payment: VAT code in YooKassa's numbering (11 = 22 % from
    # 2026; the T-Bank and Sber clients translate it) and the tax system code (1 = ОСН).
    RECEIPT_VAT_CODE = env_int("RECEIPT_VAT_CODE", 11)
    RECEIPT_TAX_SYSTEM = env_int("RECEIPT_TAX_SYSTEM", 1)
    YOOKASSA_SHOP_ID = os.environ.get("YOOKASSA_SHOP_ID", "")
    YOOKASSA_SECRET_KEY = os.environ.get("YOOKASSA_SECRET_KEY", "")
    YOOKASSA_URL = os.environ.get("YOOKASSA_URL", "https://api.yookassa.ru/v3")
    TBANK_TERMINAL_KEY = os.environ.get("TBANK_TERMINAL_KEY", "")
    TBANK_PASSWORD = os.environ.get("TBANK_PASSWORD", "")
    TBANK_URL = os.environ.get("TBANK_URL", "https://securepay.tinkoff.ru/v2")
    SBER_USERNAME = os.environ.get("SBER_USERNAME", "")
    SBER_PASSWORD = os.environ.get("SBER_PASSWORD", "")
    SBER_URL = os.environ.get("SBER_URL", "https://securepayments.sberbank.ru/payment/rest")
    SBER_CALLBACK_KEY = os.environ.get("SBER_CALLBACK_KEY", "")

    # Meter replacement visits: windows of the working day (local time), visits per window, and how
    # far ahead (working days, from the second working day after today) applicants may book.
    VISIT_WINDOWS = tuple(os.environ.get("VISIT_WINDOWS", "09:00-13:00,13:00-17:00").split(","))
    VISITS_PER_WINDOW = env_int("VISITS_PER_WINDOW", 4)
    VISIT_DAYS_AHEAD = env_int("VISIT_DAYS_AHEAD", 10)
    READINGS_WINDOW_FIRST_DAY = env_int("READINGS_WINDOW_FIRST_DAY", 15)
    READINGS_WINDOW_LAST_DAY = env_int("READINGS_WINDOW_LAST_DAY", 25)
    # A reading whose consumption exceeds this many times the monthly average asks for confirmation.
    READING_JUMP_FACTOR = env_int("READING_JUMP_FACTOR", 5)
    AVERAGE_MONTHS = env_int("AVERAGE_MONTHS", 6)
    AVERAGE_MONTHS_NEW_METER = env_int("AVERAGE_MONTHS_NEW_METER", 3)
    AVERAGE_MAX_PERIODS = env_int("AVERAGE_MAX_PERIODS", 3)
    # The day of the month (local time, 02:00) when the previous month is closed by the scheduler.
    BILLING_CLOSE_DAY = env_int("BILLING_CLOSE_DAY", 1)

    BABEL_DEFAULT_LOCALE = "ru"
    BABEL_DEFAULT_TIMEZONE = TIMEZONE
    LANGUAGES = ("ru", "en")

    API_TITLE = "GridCase API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    MAX_CONTENT_LENGTH = env_int("MAX_UPLOAD_MB", 20) * 1024 * 1024
    # Information disclosure: the largest document published (annual statements run large), and how
    # many days before a deadline the responsible person is reminded.
    DISCLOSURE_MAX_MB = env_int("DISCLOSURE_MAX_MB", 50)
    DISCLOSURE_REMIND_DAYS = env_int("DISCLOSURE_REMIND_DAYS", 14)
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are trusted (nginx: 1).
    # With none, say 0: otherwise a client could forge its address and escape the login throttle.
    PROXY_COUNT = env_int("PROXY_COUNT", 1)

    @classmethod
    def check(cls) -> None:
        if not cls.SECRET_KEY or len(cls.SECRET_KEY) < 32:
            raise RuntimeError("SECRET_KEY must be set to at least 32 random characters in production")


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY") or "development-only-key-never-use-in-production"
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
    PROXY_COUNT = env_int("PROXY_COUNT", 0)

    @classmethod
    def check(cls) -> None:
        pass


class TestingConfig(DevelopmentConfig):
    ENV_NAME = "testing"
    TESTING = True
    CELERY_TASK_ALWAYS_EAGER = True
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 8192


CONFIGS = {"production": Config, "development": DevelopmentConfig, "testing": TestingConfig}


def config_for(name: str | None = None) -> type[Config]:
    name = name or os.environ.get("GRIDCASE_ENV", "production")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"GRIDCASE_ENV must be one of {', '.join(CONFIGS)}, not {name!r}") from None
