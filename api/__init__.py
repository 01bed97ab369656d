"""The HTTP face of the inspector: create_app() builds the Flask app with flask-smorest."""
import logging
import secrets
import sys

from flask import Flask
from flask_compress import Compress
from flask_smorest import Api

from inspector.settings import SettingsError, load_settings

from . import cli, docs_assets, errors, health, logs, proxies, routes, web
from .context import db, ensure_ready
from .json import IsoJSONProvider

log = logging.getLogger(__name__)


def create_app(config=None):
    """Build the app; config overrides environment settings (UPPER_CASE names, as in the environment)."""
    config = dict(config or {})
    try:
        settings = load_settings()
        overrides = {k.lower(): config.pop(k) for k in list(config) if k.lower() in settings.__dataclass_fields__}
        settings = settings.with_overrides(**overrides)
    except SettingsError as exc:
        # One clear line, not a traceback: the operator's fix is in the environment.
        sys.stderr.write(f"configuration error: {exc}\n")
        raise SystemExit(2) from None

    logs.configure_logging()
    Flask.json_provider_class = IsoJSONProvider
    app = Flask(__name__, static_folder=None)
    app.config.update(
        SETTINGS=settings,
        SECRET_KEY=settings.secret_key or secrets.token_hex(32),
        # Multipart framing adds a little over the file itself.
        MAX_CONTENT_LENGTH=settings.max_upload_bytes + 256 * 1024,
        MAX_FORM_MEMORY_SIZE=settings.max_form_memory_bytes,
        MAX_FORM_PARTS=settings.max_form_parts,
        # Nothing sets a cookie today; should anything start to, it leaves HTTPS-only, script-proof and same-site.
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        API_TITLE="Rare Earth Field Inspector",
        API_VERSION="1.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL=docs_assets.URL,
        SEED_DEMO=True,
        # JSON and text answers compressed when the client asks (brotli first, then gzip); streamed exports and the
        # PWA's assets (api/web.py compresses those itself) are left as they are.
        COMPRESS_MIMETYPES=["application/json", "application/problem+json", "application/geo+json",
                            "application/ld+json", "text/csv", "text/html", "text/plain"],
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_BR_LEVEL=4,
        COMPRESS_LEVEL=6,
        COMPRESS_MIN_SIZE=1024,
        COMPRESS_STREAMS=False,
    )
    app.config.update(config)
    app.extensions["inspector"] = {}
    # First, so that its request id and access line wrap every other hook.
    logs.init_app(app)
    Compress(app)

    api = Api(app, spec_kwargs={"info": {"description": "Scan rare-earth batch codes, judge them, and work the findings."}})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "opaque"})
    errors.register_error_handlers(app, api)
    app.register_blueprint(health.blp)
    app.register_blueprint(web.blp)
    app.register_blueprint(docs_assets.blp)
    routes.register(app, api)
    # After the blueprints' own hooks, so that a missing sign-in still answers 401 first.
    app.before_request(errors.limit_body)
    app.before_request(errors.refuse_unusable_json)
    cli.register(app)
    app.wsgi_app = proxies.TrustedProxies(app.wsgi_app, settings.forwarded_allow_ips)

    with app.app_context():
        _prepare_store(app)
    return app


def _prepare_store(app):
    settings = app.config["SETTINGS"]
    try:
        ensure_ready()
    except Exception as exc:  # noqa: BLE001 - an unreachable database must not stop the process; /readyz reports it
        log.warning("indexes not applied yet, database unreachable: %s", exc)
        return
    if settings.demo and app.config["SEED_DEMO"]:
        from seed.loader import load_demo

        summary = load_demo(db(), scale=settings.seed_scale)
        log.warning("DEMO MODE: %s. Data lives in memory and is lost when the process stops.", summary)
