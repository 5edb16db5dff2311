"""channel_for picks the sandbox, a real channel, or nothing."""
from __future__ import annotations

from channels.email import EmailChannel
from channels.registry import channel_for
from channels.sandbox import SandboxChannel
from channels.sms import SmsChannel
from channels.voice import VoiceChannel
from notifier.config import Settings


async def pace(cost):
    return None


def test_it_gives_the_sandbox_when_twilio_has_no_credentials(settings):
    channel = channel_for("sms", settings)

    assert isinstance(channel, SandboxChannel)
    assert channel.name == "sms" and channel.simulated


def test_it_gives_the_sandbox_when_sandbox_is_forced_even_with_credentials(twilio_env):
    channel = channel_for("sms", Settings.from_env({**twilio_env, "SANDBOX": "1"}))

    assert isinstance(channel, SandboxChannel)


def test_it_gives_twilio_sms_with_the_configured_concurrency_and_pace(twilio_env):
    settings = Settings.from_env({**twilio_env, "SMS_CONCURRENCY": "37", "SMS_PER_SECOND": "5"})

    channel = channel_for("sms", settings, pace=pace)

    assert isinstance(channel, SmsChannel) and not channel.simulated
    assert (channel.concurrency, channel.per_second, channel.pace) == (37, 5.0, pace)


def test_it_gives_twilio_voice_and_smtp_email_when_configured(twilio_env):
    settings = Settings.from_env({**twilio_env, "SMTP_HOST": "127.0.0.1",
                                  "MAIL_FROM": "alerts@example.org", "VOICE_CONCURRENCY": "3",
                                  "EMAIL_CONCURRENCY": "7"})

    voice, email = channel_for("voice", settings, pace=pace), channel_for("email", settings)

    assert isinstance(voice, VoiceChannel) and (voice.concurrency, voice.pace) == (3, pace)
    assert voice.per_second == 1.0  # Twilio's default: one call a second
    assert isinstance(email, EmailChannel) and email.concurrency == 7


def test_it_gives_the_sandbox_for_unconfigured_email_and_social(settings):
    assert isinstance(channel_for("email", settings), SandboxChannel)
    assert isinstance(channel_for("social", settings), SandboxChannel)


def test_it_gives_nothing_for_an_unknown_channel(settings):
    assert channel_for("fax", settings) is None
