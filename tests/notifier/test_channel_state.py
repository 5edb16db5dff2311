"""What each channel does under the settings: live, sandbox (simulated) or unavailable."""
from notifier.channel_state import LIVE, SANDBOX, UNAVAILABLE, channel_states, unavailable_errors
from notifier.config import Settings

TWILIO = {"TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "t" * 32}


def modes(settings):
    return {c: s.mode for c, s in channel_states(settings).items()}


def test_no_credentials_records_in_the_sandbox_and_says_why(env):
    states = channel_states(Settings.from_env(env))
    assert {c: s.mode for c, s in states.items()} == {
        "sms": SANDBOX, "voice": SANDBOX, "email": SANDBOX, "social": UNAVAILABLE}
    assert "TWILIO_ACCOUNT_SID" in states["sms"].reason
    assert "SMTP_HOST" in states["email"].reason
    assert states["sms"].simulated and states["sms"].sendable


def test_credentials_make_a_channel_live(env):
    settings = Settings.from_env({**env, **TWILIO, "TWILIO_FROM_NUMBER": "+15005550006",
                                  "SMTP_HOST": "127.0.0.1", "MAIL_FROM": "a@example.org"})
    assert modes(settings) == {"sms": LIVE, "voice": LIVE, "email": LIVE, "social": UNAVAILABLE}
    assert channel_states(settings)["sms"].reason is None


def test_explicit_sandbox_wins_over_credentials(env):
    settings = Settings.from_env({**env, **TWILIO, "TWILIO_FROM_NUMBER": "+15005550006",
                                  "SANDBOX": "1"})
    states = channel_states(settings)
    assert states["sms"].mode == SANDBOX and "SANDBOX=1" in states["sms"].reason


def test_a_messaging_service_without_a_caller_number_cannot_call(env):
    settings = Settings.from_env({**env, **TWILIO, "TWILIO_MESSAGING_SERVICE_SID": "MG" + "2" * 32})
    assert modes(settings)["voice"] == UNAVAILABLE and modes(settings)["sms"] == LIVE
    errors = unavailable_errors(["sms", "voice", "social"], settings)
    assert [e.split(" ")[0] for e in errors] == ["Voice", "Social"]
    assert "TWILIO_FROM_NUMBER" in errors[0]
