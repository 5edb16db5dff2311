"""notifier.config: settings that security decisions follow are explicit, and bad values name their variable."""
from __future__ import annotations

import pytest

from notifier.config import Settings
from notifier.errors import ConfigError


@pytest.mark.parametrize("raw, expected", [(None, 0), ("0", 0), ("1", 1), (" 2 ", 2)])
def test_trusted_proxies_defaults_to_none_and_reads_a_whole_number(env, raw, expected):
    extra = {} if raw is None else {"TRUSTED_PROXIES": raw}
    assert Settings.from_env({**env, **extra}).trusted_proxies == expected


@pytest.mark.parametrize("raw", ["-1", "one", "1.5", "yes"])
def test_a_bad_trusted_proxies_stops_start_up_naming_the_variable(env, raw):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**env, "TRUSTED_PROXIES": raw})
    assert caught.value.variable == "TRUSTED_PROXIES"
    assert "TRUSTED_PROXIES" in str(caught.value)


def test_the_sandbox_is_explicit_only_and_missing_credentials_only_make_a_channel_record(env):
    bare = Settings.from_env(env)
    assert not bare.sandbox_explicit
    assert all(bare.is_sandboxed(c) for c in ("sms", "voice", "email", "social"))
    assert Settings.from_env({**env, "SANDBOX": "1"}).sandbox_explicit
    assert not Settings.from_env({**env, "SANDBOX": "0"}).sandbox_explicit


@pytest.mark.parametrize("raw", ["0", "-1", "soon"])
def test_a_bad_heal_seconds_stops_start_up_naming_the_variable(env, raw):
    assert Settings.from_env(env).heal_seconds == 5
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**env, "HEAL_SECONDS": raw})
    assert caught.value.variable == "HEAL_SECONDS"


@pytest.mark.parametrize("raw, expected", [
    (None, "https://tile.openstreetmap.org/{z}/{x}/{y}.png"), ("none", ""), ("None", ""),
    ("/tiles/{z}/{x}/{y}.png", "/tiles/{z}/{x}/{y}.png")])
def test_map_tile_url_is_a_template_or_none(env, raw, expected):
    assert Settings.from_env({**env, "MAP_TILE_URL": raw or ""}).map_tile_url == expected


def test_a_map_tile_url_without_its_placeholders_stops_start_up(env):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**env, "MAP_TILE_URL": "https://tiles.example.org/map.png"})
    assert "MAP_TILE_URL" in str(caught.value) and "{z}" in str(caught.value)


@pytest.mark.parametrize("raw, expected", [
    (None, None), ("", None), ("http://127.0.0.1:5005", "http://127.0.0.1:5005"),
    ("https://translate.example.org/lt/", "https://translate.example.org/lt")])
def test_translate_url_is_optional_and_loses_its_trailing_slash(env, raw, expected):
    extra = {} if raw is None else {"TRANSLATE_URL": raw}
    assert Settings.from_env({**env, **extra}).translate_url == expected


@pytest.mark.parametrize("raw", ["localhost:5000", "ftp://lt.example.org", "http://",
                                 "https://lt.example.org/?key=1", "libretranslate"])
def test_a_bad_translate_url_stops_start_up_naming_the_variable(env, raw):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**env, "TRANSLATE_URL": raw})
    assert caught.value.variable == "TRANSLATE_URL"


def test_the_translate_api_key_may_come_from_a_file_and_is_never_shown(env, tmp_path):
    secret = tmp_path / "lt-key"
    secret.write_text("lt-secret-key\n")
    settings = Settings.from_env({**env, "TRANSLATE_URL": "http://127.0.0.1:5005",
                                  "TRANSLATE_API_KEY_FILE": str(secret)})
    assert settings.translate_api_key == "lt-secret-key"
    assert "lt-secret-key" not in repr(settings)


@pytest.mark.parametrize("raw, expected", [(None, "21:00-08:00"), ("off", "off"),
                                           ("22:30-6:00", "22:30-06:00")])
def test_quiet_hours_default_to_nine_to_eight_and_may_be_off(env, raw, expected):
    base = {k: v for k, v in env.items() if k != "QUIET_HOURS"}  # the suite turns them off
    extra = {} if raw is None else {"QUIET_HOURS": raw}
    settings = Settings.from_env({**base, **extra})
    assert settings.quiet_hours == expected
    assert (settings.quiet_window is None) is (expected == "off")


@pytest.mark.parametrize("raw", ["21:00", "9pm-8am", "25:00-08:00", "08:00-08:00"])
def test_bad_quiet_hours_stop_start_up_naming_the_variable(env, raw):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**env, "QUIET_HOURS": raw})
    assert caught.value.variable == "QUIET_HOURS"
    assert raw in str(caught.value)


def test_max_routine_per_day_defaults_to_no_limit(env):
    assert Settings.from_env(env).max_routine_per_day == 0
    assert Settings.from_env({**env, "MAX_ROUTINE_PER_DAY": "3"}).max_routine_per_day == 3


@pytest.mark.parametrize("raw", ["-1", "two", "1.5"])
def test_a_bad_max_routine_per_day_stops_start_up_naming_the_variable(env, raw):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**env, "MAX_ROUTINE_PER_DAY": raw})
    assert caught.value.variable == "MAX_ROUTINE_PER_DAY"
