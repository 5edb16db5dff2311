"""Reading one environment variable into a typed value, with its name in every error
(`NAME_FILE` secrets, whole numbers, lists of URLs, a server's URL, secrets long enough,
directories)."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit

from notifier.errors import ConfigError

CAP_SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
# Keys shorter than this are guessable offline from one signed cookie or link.
MIN_SECRET_LENGTH = 32


def url_list(raw: str | None) -> tuple[str, ...]:
    """URLs one per line or comma-separated (SOCIAL_URLS, WEBHOOK_URLS)."""
    return tuple(u.strip() for u in (raw or "").replace(",", "\n").splitlines() if u.strip())


def tile_url(raw: str) -> str:
    """MAP_TILE_URL: a `{z}/{x}/{y}` template, or `none` for maps without tiles ("")."""
    if raw.lower() in ("none", "off"):
        return ""
    if not all(part in raw for part in ("{z}", "{x}", "{y}")):
        raise ConfigError("MAP_TILE_URL", f"must hold {{z}}, {{x}} and {{y}} (or be none), got {raw!r}")
    return raw


class Env:
    """Reads variables with `NAME_FILE` support; an empty value counts as unset."""

    def __init__(self, environ: Mapping[str, str]):
        self.environ = environ

    def str(self, name: str, default: str | None = None) -> str | None:
        value = self.environ.get(name, "").strip()
        if not value and self.environ.get(f"{name}_FILE", "").strip():
            path = Path(self.environ[f"{name}_FILE"].strip())
            try:
                value = path.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"{name}_FILE", f"cannot read {path}: {exc.strerror}") from exc
        return value or default

    def int(self, name: str, default: int, minimum: int = 0) -> int:
        raw = self.str(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(name, f"must be a whole number, got {raw!r}") from None
        if value < minimum:
            raise ConfigError(name, f"must be at least {minimum}, got {value}")
        return value

    def float(self, name: str, default: float) -> float:
        raw = self.str(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(name, f"must be a number, got {raw!r}") from None
        if value < 0:
            raise ConfigError(name, f"must not be negative, got {value}")
        return value

    def bool(self, name: str) -> bool | None:
        raw = self.str(name)
        if raw is None:
            return None
        lowered = raw.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(name, f"must be 1 or 0, got {raw!r}")


def severities(raw: str | None) -> tuple[str, ...]:
    """FAILOVER_SEVERITIES: CAP severities, comma-separated, or `none`."""
    names = [n.strip() for n in (raw or "").split(",") if n.strip()]
    if [n.lower() for n in names] in ([], ["none"]):
        return ()
    by_lower = {s.lower(): s for s in CAP_SEVERITIES}
    unknown = [n for n in names if n.lower() not in by_lower]
    if unknown:
        raise ConfigError("FAILOVER_SEVERITIES", f"{', '.join(unknown)} is not a CAP severity; "
                          f"use some of {', '.join(CAP_SEVERITIES)}, or none")
    return tuple(dict.fromkeys(by_lower[n.lower()] for n in names))


def feed_urls(raw: str | None) -> tuple[str, ...]:
    """CAP_FEEDS: http(s) URLs, one per line or comma-separated."""
    urls = url_list(raw)
    for url in urls:
        if not url.lower().startswith(("http://", "https://")) or len(url) > 2000:
            raise ConfigError("CAP_FEEDS", f"{url[:80]!r} is not an http:// or https:// URL")
    return tuple(dict.fromkeys(urls))


def service_url(name: str, raw: str | None) -> str | None:
    """A server's base URL (TRANSLATE_URL): http(s) with a host, no query; the trailing slash
    dropped so that paths join on. None when unset."""
    if raw is None:
        return None
    parts = urlsplit(raw)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ConfigError(name, f"must be an http:// or https:// URL with a host, got {raw[:80]!r}")
    if parts.query or parts.fragment:
        raise ConfigError(name, "must be the server's base URL, without ? or #")
    return raw.rstrip("/")


def positive(name: str, value: float) -> float:
    if value <= 0:
        raise ConfigError(name, f"must be more than 0, got {value:g}")
    return value


def long_secret(name: str, value: str | None) -> str | None:
    """`value`, refused with a ConfigError naming `name` when it is short enough to guess."""
    if value is not None and len(value) < MIN_SECRET_LENGTH:
        raise ConfigError(name, f"must be at least {MIN_SECRET_LENGTH} characters, got "
                                f"{len(value)}; make one with: python -c 'import secrets; "
                                f"print(secrets.token_urlsafe(48))'")
    return value


def directory(name: str, value: str | None) -> Path | None:
    """`value` as an existing directory; a ConfigError naming `name` when it is not one."""
    if value is None:
        return None
    if not Path(value).is_dir():
        raise ConfigError(name, f"{value!r} is not a directory; create it (empty) before starting")
    return Path(value)


DEFAULT_SEVERITY_CHANNELS = ("Minor=email,social;Moderate=sms,email,social;"
                             "Severe=sms,voice,email,social;Extreme=sms,voice,email,social")


def severity_channels(raw: str | None, channel_names: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """SEVERITY_CHANNELS: `Severity=channel,channel;…` → {severity: channels} (DESIGN §12).

    A severity left out has no default: an alert of it must name its channels; `none` turns
    the routing off (every alert names its channels, as before wave 2)."""
    out: dict[str, tuple[str, ...]] = {}
    if (raw or "").strip().lower() == "none":
        return out
    by_lower = {s.lower(): s for s in CAP_SEVERITIES}
    for part in (p.strip() for p in (raw or "").split(";")):
        if not part:
            continue
        name, sep, listed = part.partition("=")
        severity = by_lower.get(name.strip().lower())
        if not sep or severity is None:
            raise ConfigError("SEVERITY_CHANNELS", f"{part[:60]!r} must read Severity=channel,… "
                              f"with a CAP severity ({', '.join(CAP_SEVERITIES)})")
        if severity in out:
            raise ConfigError("SEVERITY_CHANNELS", f"{severity} is given twice")
        channels = [c.strip().lower() for c in listed.split(",") if c.strip()]
        unknown = [c for c in channels if c not in channel_names]
        if unknown or not channels:
            raise ConfigError("SEVERITY_CHANNELS", f"{severity}: {', '.join(unknown) or 'no channel'}"
                              f" is not a channel; use some of {', '.join(channel_names)}")
        out[severity] = tuple(dict.fromkeys(channels))
    return out
