"""Settings read once from the environment into a typed object (DESIGN §3)."""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from babel import Locale, UnknownLocaleError

from notifier.env_values import (Env as _Env, directory as _directory, feed_urls as _feed_urls,
                                 long_secret as _long_secret, positive as _positive,
                                 service_url as _service_url, severities as _severities,
                                 severity_channels as _severity_channels,
                                 DEFAULT_SEVERITY_CHANNELS,
                                 tile_url as _tile_url, url_list as _url_list)
from notifier.errors import ConfigError
from notifier.redact import shown
from notifier.redis_url import check as checked_redis_url
from notifier import channel_specs, quiet_hours as _quiet, sms_senders

ROOT = Path(__file__).resolve().parent.parent
CHANNELS = channel_specs.NAMES
SMTP_SECURITY = ("none", "starttls", "tls")
# The audit chain's key when AUDIT_KEY is unset: derived from SECRET_KEY under this label.
AUDIT_KEY_LABEL = b"tocsin audit chain key v1"


@dataclass(frozen=True)
class Settings:
    """Everything configurable. Build with `Settings.from_env()`; never read os.environ elsewhere."""

    database_url: str
    redis_url: str
    secret_key: str
    public_url: str = "http://127.0.0.1:5000"
    default_region: str = "US"
    default_language: str = "en"
    timezone: str = "UTC"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_base_url: str | None = None
    # Seconds a Twilio call may take before it is given up and retried (a hung provider).
    twilio_timeout: float = 15.0
    # Twilio API calls in flight across every worker of the account (workers/slots.py); 0: off.
    twilio_account_concurrency: int = 200
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_security: str = "none"
    mail_from: str | None = None
    social_urls: tuple[str, ...] = ()
    # Partner systems sent every public alert and cancel, signed with webhook_secret.
    webhook_urls: tuple[str, ...] = ()
    webhook_secret: str | None = None
    # Private, loopback and link-local targets are refused unless this is set explicitly.
    webhook_allow_private: bool = False
    per_second: dict = field(default_factory=dict)
    # What Twilio sends SMS from (a key of SMS_SENDER_RATES): their pace, unless SMS_PER_SECOND.
    sms_sender_type: str = "long_code"
    # What one SMS segment costs, for the preview's estimate (Twilio's US list price).
    sms_segment_price: float = 0.0083
    sms_price_currency: str = "USD"
    concurrency: dict = field(default_factory=dict)
    batch_size: int = 1000
    # SANDBOX=1 set explicitly: every channel records, the sandbox pages and API exist and
    # two-factor sign-in is optional. Never inferred from missing credentials.
    sandbox_explicit: bool = False
    # How many reverse proxies in front of the app append to X-Forwarded-For (0: none, trust
    # no header); the client address is that many entries from the right.
    trusted_proxies: int = 0
    agency_name: str = "Tocsin demo"
    agency_contact: str | None = None
    map_tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    instance_path: Path = ROOT / "instance"
    retry_delays: tuple[int, ...] = (10, 30, 120, 300)
    # A busy line or an unanswered call is tried again this many more times, this far apart.
    voice_retries: int = 2
    voice_retry_seconds: int = 300
    # Alerts of these severities fail over to another of a resident's channels when one
    # fails for good (notifier.failover); FAILOVER_SEVERITIES=none turns it off.
    failover_severities: tuple[str, ...] = ("Severe", "Extreme")
    # The channels an alert of each severity goes out on when it names none (DESIGN §12).
    severity_channels: dict = field(default_factory=lambda: _severity_channels(
        DEFAULT_SEVERITY_CHANNELS, CHANNELS))
    # Workers sweep for a dead peer's work this often; a heartbeat lives twice as long.
    heal_seconds: float = 5.0
    # Two-person rule: sending to more residents than this needs a second dispatcher's approval.
    approval_threshold: int = 10000
    # HMAC key of the audit chain; never stored in the database (notifier/audit.py).
    audit_key: str = ""
    # Keys the one-way hashes that keep an erased resident's opt-outs (notifier.erasure).
    ledger_key: str = ""
    # Bearer token GET /metrics asks for; unset, /metrics is open (keep it off the internet).
    metrics_token: str | None = None
    # Where every process writes its Prometheus values (prometheus_client reads it too).
    prometheus_multiproc_dir: Path | None = None
    # CAP or Atom-of-CAP feeds the workers poll; each new alert becomes a draft (workers/cap_poller.py).
    cap_feeds: tuple[str, ...] = ()
    cap_poll_seconds: float = 60.0
    # A LibreTranslate-compatible server for drafts' machine translations (optional).
    translate_url: str | None = None
    translate_api_key: str | None = None
    # Routine alerts wait through each resident's quiet hours (notifier.quiet_hours): this
    # window in `timezone` unless they chose their own; "off" sends at once.
    quiet_hours: str = _quiet.DEFAULT
    # Routine topic alerts one resident gets in a day at most (notifier.frequency_guard); 0: no limit.
    max_routine_per_day: int = 0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Return settings from `environ` (default os.environ); raise ConfigError naming a bad variable."""
        env = _Env(os.environ if environ is None else environ)
        instance = Path(env.str("TOCSIN_INSTANCE", str(ROOT / "instance")))
        region = env.str("DEFAULT_REGION", "US").upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ConfigError("DEFAULT_REGION", f"{region!r} is not an ISO 3166 region phonenumbers knows")
        language = env.str("DEFAULT_LANGUAGE", "en")
        try:
            Locale.parse(language.replace("-", "_"))
        except (ValueError, UnknownLocaleError):
            raise ConfigError("DEFAULT_LANGUAGE", f"{language!r} is not a language tag babel knows") from None
        timezone = env.str("TIMEZONE", "UTC")
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError("TIMEZONE", f"{timezone!r} is not an IANA time zone") from None
        security = (env.str("SMTP_SECURITY", "none")).lower()
        if security not in SMTP_SECURITY:
            raise ConfigError("SMTP_SECURITY", f"must be one of {', '.join(SMTP_SECURITY)}")
        public_url = env.str("PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/")
        if not public_url.startswith(("http://", "https://")):
            raise ConfigError("PUBLIC_URL", "must start with http:// or https://")
        base_url = env.str("TWILIO_API_BASE_URL")
        if base_url and not base_url.startswith(("http://", "https://")):
            raise ConfigError("TWILIO_API_BASE_URL", "must start with http:// or https://")
        social = _url_list(env.str("SOCIAL_URLS"))
        webhooks = _url_list(env.str("WEBHOOK_URLS"))
        webhook_secret = env.str("WEBHOOK_SECRET")
        if webhooks and not webhook_secret:
            raise ConfigError("WEBHOOK_SECRET", "must be set when WEBHOOK_URLS is: partners "
                                                "verify each call with it")
        if any(not u.startswith(("http://", "https://")) for u in webhooks):
            raise ConfigError("WEBHOOK_URLS", "each must start with http:// or https://")
        from_number = env.str("TWILIO_FROM_NUMBER")
        service = env.str("TWILIO_MESSAGING_SERVICE_SID")
        sender_type = sms_senders.sender_type(env.str("SMS_SENDER_TYPE"), from_number, service)
        # SMS go at the sender's rate only when they go to Twilio: the sandbox has no carrier.
        to_twilio = bool(env.str("TWILIO_ACCOUNT_SID") and env.str("TWILIO_AUTH_TOKEN")
                         and (from_number or service) and not env.bool("SANDBOX"))
        # Each channel's pace and concurrency default to its spec (notifier.channel_specs);
        # SMS go at the sender's rate, and only when they go to Twilio.
        per_second = {c.name: env.float(f"{c.env_prefix}_PER_SECOND", c.per_second)
                      for c in channel_specs.SPECS}
        per_second["sms"] = env.float(
            "SMS_PER_SECOND", sms_senders.SMS_SENDER_RATES[sender_type] if to_twilio else 0)
        secret_key = _long_secret("SECRET_KEY",
                                  env.str("SECRET_KEY") or _instance_secret(instance))
        concurrency = {c.name: env.int(f"{c.env_prefix}_CONCURRENCY", c.concurrency, minimum=1)
                       for c in channel_specs.SPECS}
        return cls(
            database_url=env.str("DATABASE_URL", f"sqlite:///{instance / 'tocsin.db'}"),
            redis_url=checked_redis_url(env.str("REDIS_URL", "redis://127.0.0.1:6379/0")),
            secret_key=secret_key,
            audit_key=_long_secret("AUDIT_KEY", env.str("AUDIT_KEY")) or _derived(secret_key),
            public_url=public_url,
            default_region=region,
            default_language=language,
            timezone=timezone,
            twilio_account_sid=env.str("TWILIO_ACCOUNT_SID"),
            twilio_auth_token=env.str("TWILIO_AUTH_TOKEN"),
            twilio_from_number=from_number,
            twilio_messaging_service_sid=service,
            twilio_api_base_url=base_url.rstrip("/") if base_url else None,
            twilio_timeout=env.float("TWILIO_TIMEOUT", 15.0) or 15.0,
            twilio_account_concurrency=env.int("TWILIO_ACCOUNT_CONCURRENCY",
                                               cls.twilio_account_concurrency),
            smtp_host=env.str("SMTP_HOST"),
            smtp_port=env.int("SMTP_PORT", {"tls": 465, "starttls": 587}.get(security, 25), minimum=1),
            smtp_username=env.str("SMTP_USERNAME"),
            smtp_password=env.str("SMTP_PASSWORD"),
            smtp_security=security,
            mail_from=env.str("MAIL_FROM"),
            social_urls=social,
            webhook_urls=webhooks,
            webhook_secret=webhook_secret,
            webhook_allow_private=bool(env.bool("WEBHOOK_ALLOW_PRIVATE")),
            per_second=per_second,
            sms_sender_type=sender_type,
            sms_segment_price=env.float("SMS_SEGMENT_PRICE", cls.sms_segment_price),
            sms_price_currency=(env.str("SMS_PRICE_CURRENCY") or "USD").upper(),
            concurrency=concurrency,
            batch_size=env.int("BATCH_SIZE", 1000, minimum=1),
            sandbox_explicit=bool(env.bool("SANDBOX")),
            trusted_proxies=env.int("TRUSTED_PROXIES", 0),
            agency_name=env.str("AGENCY_NAME", "Tocsin demo"),
            agency_contact=env.str("AGENCY_CONTACT"),
            map_tile_url=_tile_url(env.str("MAP_TILE_URL", cls.map_tile_url)),
            approval_threshold=env.int("APPROVAL_THRESHOLD", cls.approval_threshold),
            ledger_key=env.str("LEDGER_KEY") or _instance_secret(instance, "ledger_key"),
            instance_path=instance,
            voice_retries=env.int("VOICE_RETRIES", 2),
            voice_retry_seconds=env.int("VOICE_RETRY_SECONDS", 300, minimum=1),
            failover_severities=_severities(env.str("FAILOVER_SEVERITIES", "Severe,Extreme")),
            severity_channels=_severity_channels(
                env.str("SEVERITY_CHANNELS", DEFAULT_SEVERITY_CHANNELS), CHANNELS),
            metrics_token=_long_secret("METRICS_TOKEN", env.str("METRICS_TOKEN")),
            prometheus_multiproc_dir=_directory("PROMETHEUS_MULTIPROC_DIR",
                                                env.str("PROMETHEUS_MULTIPROC_DIR")),
            heal_seconds=_positive("HEAL_SECONDS", env.float("HEAL_SECONDS", 5.0)),
            cap_feeds=_feed_urls(env.str("CAP_FEEDS")),
            cap_poll_seconds=_positive("CAP_POLL_SECONDS", env.float("CAP_POLL_SECONDS", 60.0)),
            translate_url=_service_url("TRANSLATE_URL", env.str("TRANSLATE_URL")),
            translate_api_key=env.str("TRANSLATE_API_KEY"),
            quiet_hours=_quiet_hours(env.str("QUIET_HOURS", _quiet.DEFAULT)),
            max_routine_per_day=env.int("MAX_ROUTINE_PER_DAY", 0),
        )

    def __repr__(self) -> str:
        """The settings with every secret hidden: safe for logs and tracebacks."""
        items = ", ".join(f"{f.name}={shown(f.name, getattr(self, f.name))}" for f in fields(self))
        return f"Settings({items})"

    __str__ = __repr__

    @property
    def twilio_configured(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token
                    and (self.twilio_from_number or self.twilio_messaging_service_sid))

    @property
    def quiet_window(self) -> _quiet.Window | None:
        """The default quiet hours (QUIET_HOURS), or None when they are off."""
        return _quiet.parse(self.quiet_hours)

    def is_sandboxed(self, channel: str) -> bool:
        """True when `channel` records instead of sending (SANDBOX=1 or no credentials).

        Only what a channel does: security decisions follow `sandbox_explicit`, never this
        (an unconfigured channel once switched two-factor sign-in off).
        """
        found = channel_specs.BY_NAME.get(channel)
        return self.sandbox_explicit or found is None or not found.configured(self)


def _quiet_hours(raw: str) -> str:
    """QUIET_HOURS written the stored way ("off" or "HH:MM-HH:MM"); a ConfigError otherwise."""
    try:
        return _quiet.normalized(raw)
    except ValueError as exc:
        raise ConfigError("QUIET_HOURS", f"{exc}, got {raw!r}") from None


def _derived(secret_key: str) -> str:
    """The audit key derived from SECRET_KEY (an HMAC of a fixed label: a one-block KDF)."""
    return hmac.new(secret_key.encode("utf-8"), AUDIT_KEY_LABEL, hashlib.sha256).hexdigest()


def _instance_secret(instance: Path, name: str = "secret_key") -> str:
    """Return the secret generated once into instance/<name>, creating it on first use."""
    path = instance / name
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        # The folder holds the database, this key and the local Redis: its owner's only.
        instance.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process won the race: use its key
            return path.read_text(encoding="utf-8").strip()
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(key)
        return key
