"""The client of a LibreTranslate-compatible server (TRANSLATE_URL) for drafts' machine
translations: `POST <TRANSLATE_URL>/translate` `{q, source, target, format: "text", api_key}`,
one request per target language, a few in flight, each answered `{"translatedText": …}`.

Not a channel (nothing reaches a resident through it): a dispatcher waits on it, so every
failure becomes one TranslationUnavailable saying in plain words what went wrong, and either
every language is translated or none is.
"""
from __future__ import annotations

import asyncio
import json
import os

import aiohttp

from notifier.errors import TranslationUnavailable
from notifier.redact import safe_url

REQUEST_SECONDS = 20.0  # one text into one language, on a server without a GPU
DEADLINE_SECONDS = 45.0  # every language of one request: inside gunicorn's 60 s
IN_FLIGHT = 4  # LibreTranslate answers four at a time by default (--threads 4)
# What a refusal means, for the dispatcher reading it.
STATUS_WORDS = {400: "refused the request", 403: "refused the API key (check TRANSLATE_API_KEY)",
                429: "is too busy (too many requests)", 404: "has no /translate here"}


def from_settings(settings) -> "LibreTranslate":
    """The client of TRANSLATE_URL; TranslationUnavailable when it is not set."""
    if not settings.translate_url:
        raise TranslationUnavailable(
            "machine translation is not set up: set TRANSLATE_URL to the address of a "
            "LibreTranslate server")
    return LibreTranslate(settings.translate_url, settings.translate_api_key)


class LibreTranslate:
    """`client(text, source, targets)` → {target code: text}, in LibreTranslate's codes."""

    def __init__(self, base_url: str, api_key: str | None = None,
                 request_seconds: float = REQUEST_SECONDS,
                 deadline_seconds: float = DEADLINE_SECONDS, in_flight: int = IN_FLIGHT):
        self.url = base_url.rstrip("/") + "/translate"
        self.api_key = api_key
        self.request_seconds = request_seconds
        self.deadline_seconds = deadline_seconds
        self.in_flight = in_flight
        self.shown = safe_url(base_url)  # in messages: never a password in the URL

    def __call__(self, text: str, source: str, targets: list[str]) -> dict[str, str]:
        """Raise TranslationUnavailable when the server cannot be reached, answers with an
        error or without a translation, or takes too long."""
        try:
            return asyncio.run(asyncio.wait_for(self._all(text, source, targets),
                                                self.deadline_seconds))
        except asyncio.TimeoutError:
            raise TranslationUnavailable(
                f"the translation server at {self.shown} did not translate into "
                f"{', '.join(targets)} within {self.deadline_seconds:g} s") from None

    async def _all(self, text: str, source: str, targets: list[str]) -> dict[str, str]:
        limit = asyncio.Semaphore(self.in_flight)
        timeout = aiohttp.ClientTimeout(total=self.request_seconds)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async def one(target: str) -> str:
                async with limit:
                    return await self._one(session, text, source, target)
            answers = await asyncio.gather(*(one(target) for target in targets))
        return dict(zip(targets, answers))

    async def _one(self, session: aiohttp.ClientSession, text: str, source: str,
                   target: str) -> str:
        body = {"q": text, "source": source, "target": target, "format": "text",
                "api_key": self.api_key or ""}
        try:
            async with session.post(self.url, json=body) as response:
                raw = await response.read()
                status = response.status
        except asyncio.TimeoutError:
            raise TranslationUnavailable(
                f"the translation server at {self.shown} did not answer within "
                f"{self.request_seconds:g} s (into {target})") from None
        except aiohttp.ClientError as exc:
            raise TranslationUnavailable(
                f"the translation server at {self.shown} cannot be reached: "
                f"{_reason(exc)}") from None
        answer = _json(raw)
        if status != 200:
            said = answer.get("error") if isinstance(answer, dict) else None
            words = STATUS_WORDS.get(status, "failed")
            detail = f": {str(said)[:200]}" if said else ""
            raise TranslationUnavailable(
                f"the translation server at {self.shown} {words} (HTTP {status}, "
                f"{source} → {target}){detail}")
        translated = answer.get("translatedText") if isinstance(answer, dict) else None
        if not isinstance(translated, str) or not translated.strip():
            raise TranslationUnavailable(
                f"the translation server at {self.shown} answered without a translation "
                f"into {target} (no translatedText): is it LibreTranslate-compatible?")
        return translated


def _json(raw: bytes):
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _reason(exc: aiohttp.ClientError) -> str:
    """Why a connection failed, in a few words (connection refused, name not resolved…)."""
    cause = getattr(exc, "os_error", None) or exc.__cause__
    errno = getattr(cause, "errno", None)
    if isinstance(errno, int) and errno > 0:  # asyncio words ECONNREFUSED "Connect call failed"
        return os.strerror(errno).lower()
    text = getattr(cause, "strerror", None) or str(cause or exc) or type(exc).__name__
    return text[:200]
