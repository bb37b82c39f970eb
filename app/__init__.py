"""The GridCase application factory."""
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import INSTANCE, config_for


def create_app(config: type | str | None = None, **overrides) -> Flask:
    config_class = config if isinstance(config, type) else config_for(config)
    config_class.check()
    app = Flask(__name__, instance_path=str(INSTANCE))
    app.config.from_object(config_class)
    app.config.update(overrides)
    app.jinja_env.add_extension("jinja2.ext.do")
    INSTANCE.mkdir(parents=True, exist_ok=True)
    proxies = app.config["PROXY_COUNT"]
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    from app import extensions, i18n, models  # noqa: F401  (models register their tables)
    from app.celery_app import celery_init_app
    from app.models.types import include_in_migrations, render_migration_item

    extensions.db.init_app(app)
    extensions.migrate.init_app(app, extensions.db, directory=str(app.root_path + "/migrations"),
                                render_as_batch=True, compare_type=True, render_item=render_migration_item,
                                include_name=include_in_migrations)
    extensions.csrf.init_app(app)
    i18n.init_app(app)
    celery_init_app(app)

    from app import auth_session
    auth_session.init_app(app)

    from app.web import register_web
    register_web(app)

    from app.cli import register_cli
    register_cli(app)
    return app
