"""Service settings read once from the environment and validated."""
import ipaddress
import os
from dataclasses import dataclass, field, fields, replace


# The ledger counts a batch left with under 1 kg as used up (inspector/ledger/book.py), so by default no stage
# starts a batch below that: the smallest lot a separator or smelter labels (a 1 kg oxide or metal sample tin, a
# box of magnets) still passes, and a deployment raises a stage's floor (MIN_BATCH_MASS_KG=ore=100, say).
MIN_BATCH_MASS_KG = {"ore": 1.0, "compound": 1.0, "metal": 1.0, "magnet": 1.0}


class SettingsError(ValueError):
    """An environment value that the service cannot start with."""


def _int(env, name, default, minimum=0):
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _float(env, name, default, minimum=0.0):
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment."""

    mongo_uri: str | None = None
    mongo_db: str = "rare_earth_inspector"
    secret_key: str | None = None
    server_selection_timeout_ms: int = 3000
    max_upload_bytes: int = 15 * 1024 * 1024
    # MAX_JSON_BYTES: any request body but an upload or a ledger/EPCIS capture; MAX_FORM_MEMORY_BYTES and
    # MAX_FORM_PARTS: a multipart form's text fields (each) and its number of parts.
    max_json_bytes: int = 1024 * 1024
    max_form_memory_bytes: int = 256 * 1024
    max_form_parts: int = 100
    max_image_pixels: int = 60_000_000
    # On the embedded store: how long a request body may take to arrive (else 408), and how long one piece of an
    # answer may wait for a client that stopped reading (then the connection is cut).
    body_read_timeout_seconds: float = 10.0
    send_timeout_seconds: float = 30.0
    clone_speed_kmh: float = 150.0
    # A scan's time: how far ahead of the server a phone's clock may run, how long a scan may wait in the outbox,
    # and how far the claimed wait may differ from the one the phone measured.
    clock_skew_minutes: int = 10
    max_offline_days: int = 30
    scan_time_tolerance_minutes: int = 10
    scan_review_days: int = 90
    mass_tolerance_pct: float = 2.0
    recovery_ceiling: float = 0.98
    response_days: int = 14
    access_token_minutes: int = 15
    login_failure_limit: int = 10
    login_address_failure_limit: int = 100
    login_failure_minutes: int = 15
    # FORWARDED_ALLOW_IPS: the proxies whose X-Forwarded-For names the client; none by default.
    forwarded_allow_ips: tuple = ()
    seed_scale: str = "small"
    report_deadline_day: int = 10
    report_deadline_inclusive: bool = True
    recovery_ceilings: dict = field(default_factory=dict)
    # The least mass a new batch of each stage may have, judged on the kilograms as stored (docs/ledger-events.md).
    min_batch_mass_kg: dict = field(default_factory=lambda: dict(MIN_BATCH_MASS_KG))
    intake_max_lines: int = 200_000
    risk_window_days: int = 90
    in_transit_days: int = 14  # a shipment not received within this many days is in transit too long
    # Notifications (inspector/notifications): e-mail only when SMTP_URL is set; links in them open APP_URL.
    smtp_url: str | None = None
    mail_from: str = "inspector@localhost"
    app_url: str = "http://127.0.0.1:8000"
    extra: dict = field(default_factory=dict)

    def min_batch_mass_for(self, stage: str) -> float:
        """The least mass in kg a new batch of this stage may be recorded with."""
        return self.min_batch_mass_kg.get(stage, MIN_BATCH_MASS_KG.get(stage, 1.0))

    def recovery_ceiling_for(self, stage: str) -> float:
        """The recovery ceiling (output REO / input REO) allowed for a production stage."""
        return self.recovery_ceilings.get(stage, self.recovery_ceiling)

    @property
    def demo(self) -> bool:
        """True when running on the embedded, unsaved demo store."""
        return not self.mongo_uri

    def with_overrides(self, **overrides):
        """Return a copy with some settings replaced (used by tests and create_app)."""
        known = {f.name for f in fields(self)}
        unknown = {k: v for k, v in overrides.items() if k not in known}
        known_values = {k: v for k, v in overrides.items() if k in known}
        merged = replace(self, **known_values)
        if unknown:
            merged = replace(merged, extra={**merged.extra, **unknown})
        return merged


def _bool(env, name, default):
    raw = (env.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _ceilings(env, name):
    raw = (env.get(name) or "").strip()
    out = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        stage, _, value = part.partition("=")
        try:
            ceiling = float(value)
        except ValueError:
            raise SettingsError(f"{name} takes stage=ratio pairs like compound=0.98,metal=0.97, got {part!r}") from None
        if stage.strip() not in ("compound", "metal", "magnet") or not 0 < ceiling <= 2:
            raise SettingsError(f"{name}: {part!r} needs a stage of compound, metal or magnet and a ratio in (0, 2]")
        out[stage.strip()] = ceiling
    return out


def _networks(env, name):
    raw = (env.get(name) or "").strip()
    out = []
    for part in filter(None, (p.strip() for p in raw.split(","))):
        try:
            out.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise SettingsError(f"{name} takes the proxies' addresses or networks, like 10.0.0.5,10.1.0.0/16; "
                                f"got {part!r}") from None
    return tuple(out)


def _minimums(env, name):
    raw = (env.get(name) or "").strip()
    out = dict(MIN_BATCH_MASS_KG)
    for part in filter(None, (p.strip() for p in raw.split(","))):
        stage, _, value = part.partition("=")
        try:
            kg = float(value)
        except ValueError:
            raise SettingsError(f"{name} takes stage=kg pairs like ore=10,compound=1, got {part!r}") from None
        if stage.strip() not in MIN_BATCH_MASS_KG or not 0.001 <= kg <= 1e6:
            raise SettingsError(f"{name}: {part!r} needs a stage of ore, compound, metal or magnet and kg in "
                                "[0.001, 1000000]")
        out[stage.strip()] = kg
    return out


def load_settings(env=None) -> Settings:
    """Read and validate settings from the environment; raise SettingsError on bad values."""
    env = os.environ if env is None else env
    uri = env.get("MONGO_URI") or None
    if uri and not uri.startswith(("mongodb://", "mongodb+srv://")):
        scheme = uri.split(":", 1)[0]
        raise SettingsError(f"MONGO_URI must start with mongodb:// or mongodb+srv://, got scheme {scheme!r}")
    scale = env.get("SEED_SCALE", "small")
    if scale not in ("small", "medium", "large"):
        raise SettingsError(f"SEED_SCALE must be small, medium or large, got {scale!r}")
    if _int(env, "REPORT_DEADLINE_DAY", 10, minimum=1) > 28:
        raise SettingsError("REPORT_DEADLINE_DAY must be 28 or less, so that every month has that day")
    secret = env.get("SECRET_KEY") or None
    smtp_url = (env.get("SMTP_URL") or "").strip() or None
    if smtp_url and not smtp_url.startswith(("smtp://", "smtps://")):
        raise SettingsError("SMTP_URL must look like smtp://host:port or smtps://user:password@host:465")
    app_url = (env.get("APP_URL") or "").strip() or "http://127.0.0.1:8000"
    if not app_url.startswith(("http://", "https://")):
        raise SettingsError(f"APP_URL must start with http:// or https://, got {app_url!r}")
    if uri and not secret:
        raise SettingsError("SECRET_KEY must be set when MONGO_URI points at a real database")
    return Settings(
        mongo_uri=uri,
        mongo_db=env.get("MONGO_DB") or "rare_earth_inspector",
        secret_key=secret,
        server_selection_timeout_ms=_int(env, "MONGO_TIMEOUT_MS", 3000, minimum=100),
        max_upload_bytes=_int(env, "MAX_UPLOAD_BYTES", 15 * 1024 * 1024, minimum=1024),
        max_json_bytes=_int(env, "MAX_JSON_BYTES", 1024 * 1024, minimum=1024),
        max_form_memory_bytes=_int(env, "MAX_FORM_MEMORY_BYTES", 256 * 1024, minimum=1024),
        max_form_parts=_int(env, "MAX_FORM_PARTS", 100, minimum=2),
        max_image_pixels=_int(env, "MAX_IMAGE_PIXELS", 60_000_000, minimum=10_000),
        body_read_timeout_seconds=_float(env, "BODY_READ_TIMEOUT_SECONDS", 10.0, minimum=0.1),
        send_timeout_seconds=_float(env, "SEND_TIMEOUT_SECONDS", 30.0, minimum=0.1),
        clone_speed_kmh=_float(env, "CLONE_SPEED_KMH", 150.0, minimum=1.0),
        clock_skew_minutes=_int(env, "CLOCK_SKEW_MINUTES", 10, minimum=1),
        max_offline_days=_int(env, "MAX_OFFLINE_DAYS", 30, minimum=1),
        scan_time_tolerance_minutes=_int(env, "SCAN_TIME_TOLERANCE_MINUTES", 10, minimum=1),
        scan_review_days=_int(env, "SCAN_REVIEW_DAYS", 90, minimum=1),
        mass_tolerance_pct=_float(env, "MASS_TOLERANCE_PCT", 2.0),
        recovery_ceiling=_float(env, "RECOVERY_CEILING", 0.98, minimum=0.01),
        response_days=_int(env, "RESPONSE_DAYS", 14, minimum=1),
        access_token_minutes=_int(env, "ACCESS_TOKEN_MINUTES", 15, minimum=1),
        login_failure_limit=_int(env, "LOGIN_FAILURE_LIMIT", 10, minimum=1),
        login_address_failure_limit=_int(env, "LOGIN_ADDRESS_FAILURE_LIMIT", 100, minimum=1),
        login_failure_minutes=_int(env, "LOGIN_FAILURE_MINUTES", 15, minimum=1),
        forwarded_allow_ips=_networks(env, "FORWARDED_ALLOW_IPS"),
        seed_scale=scale,
        report_deadline_day=_int(env, "REPORT_DEADLINE_DAY", 10, minimum=1),
        report_deadline_inclusive=_bool(env, "REPORT_DEADLINE_INCLUSIVE", True),
        recovery_ceilings=_ceilings(env, "RECOVERY_CEILINGS"),
        min_batch_mass_kg=_minimums(env, "MIN_BATCH_MASS_KG"),
        intake_max_lines=_int(env, "INTAKE_MAX_LINES", 200_000, minimum=1),
        risk_window_days=_int(env, "RISK_WINDOW_DAYS", 90, minimum=1),
        in_transit_days=_int(env, "IN_TRANSIT_DAYS", 14, minimum=1),
        smtp_url=smtp_url,
        mail_from=(env.get("MAIL_FROM") or "").strip() or "inspector@localhost",
        app_url=app_url,
    )
