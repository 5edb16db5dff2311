"""The dashboard's last errors: failed deliveries per channel and code, RQ's failed jobs."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import redis as redis_lib
from rq import Queue
from rq.job import Job

from notifier.db import session_scope
from tests.admin_ui.conftest import make_alert, make_delivery, make_subscriber


def test_the_dashboard_groups_the_last_days_failures_and_counts_failed_jobs(
        signed_in, settings, redis_url):
    recent = datetime.now(timezone.utc) - timedelta(hours=1)
    with session_scope(settings.database_url) as session:
        first, second = make_alert(session), make_alert(session, headline="Flood")
        for i in range(3):
            sub = make_subscriber(session, phone=f"+1617555{i:04d}")
            make_delivery(session, first if i == 0 else second, sub, status="undelivered",
                          error_code="30003", error_message="Unreachable handset",
                          updated_at=recent)
        sub = make_subscriber(session, phone="+16175559999", email="a@example.org")
        make_delivery(session, second, sub, channel="email", address=sub.email, status="failed",
                      error_code=None, error_message="550 mailbox unknown", updated_at=recent)
        old = make_subscriber(session, phone="+16175558888")
        make_delivery(session, first, old, status="failed", error_code="21211",
                      updated_at=recent - timedelta(days=2))  # older than a day: left out
        make_delivery(session, first, make_subscriber(session, phone="+16175557777"),
                      status="delivered", updated_at=recent)
        second_id = second.id
    conn = redis_lib.Redis.from_url(redis_url)
    job = Job.create("os.getcwd", connection=conn)
    job.save()
    Queue("sms", connection=conn).failed_job_registry.add(job, ttl=3600)

    response = signed_in("admin").get("/dashboard")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    sms_row = html.split('data-testid="error-sms-30003"')[1].split("</tr>")[0]
    assert '<td class="num">3</td>' in sms_row and "Unreachable handset" in sms_row
    assert f'href="/alerts/{second_id}"' in sms_row
    assert "550 mailbox unknown" in html.split('data-testid="error-email-none"')[1]
    assert "21211" not in html
    assert 'data-testid="failed-jobs-sms">1<' in html
    assert 'data-testid="failed-jobs-voice">0<' in html


def test_a_quiet_day_says_there_are_no_failed_messages(signed_in):
    html = signed_in("admin").get("/dashboard").get_data(as_text=True)
    assert "No failed messages." in html


def test_the_dashboard_is_for_admins_and_dispatchers(signed_in):
    # Dispatchers see it too: it tells them which drafts wait for their approval.
    assert signed_in("dispatcher").get("/dashboard").status_code == 200
    assert signed_in("auditor").get("/dashboard").status_code == 403


def test_the_dashboard_warns_while_residents_would_see_the_demos_settings(signed_in):
    html = signed_in("dispatcher").get("/dashboard").get_data(as_text=True)
    warning = html.split('data-testid="setup-warning"')[1].split("</section>")[0]
    for name in ("AGENCY_NAME", "AGENCY_CONTACT", "TIMEZONE"):
        assert f'data-testid="setup-{name}"' in warning
    # No SANDBOX=1 and no credentials: SMS are recorded, nobody receives them — said here.
    assert 'data-testid="setup-channel-sms"' in warning and "Twilio is not set up" in warning


def test_the_warning_goes_once_the_settings_are_set(settings, user):
    import dataclasses

    from admin_ui import create_app
    from tests.admin_ui.pages.conftest import page_client, sign_in_with_code
    from tests.admin_ui.pages.test_preview_summary import TWILIO_SERVICE

    app = create_app(dataclasses.replace(
        settings, agency_name="Springfield PD", agency_contact="311", timezone="America/Chicago",
        twilio_from_number="+15005550006", smtp_host="127.0.0.1", mail_from="a@example.org",
        **TWILIO_SERVICE))
    app.config["TESTING"] = True
    client = page_client(app)
    sign_in_with_code(client, user("ann", "dispatcher"))
    assert 'data-testid="setup-warning"' not in client.get("/dashboard").get_data(as_text=True)


def test_an_account_apprise_cannot_post_to_is_named_before_the_first_post(settings, user):
    import dataclasses

    from admin_ui import create_app
    from tests.admin_ui.pages.conftest import page_client, sign_in_with_code

    app = create_app(dataclasses.replace(settings, social_urls=(
        "mastodon://token@mastodon.example", "es: mastdon://secret-token@mastodon.example")))
    app.config["TESTING"] = True
    client = page_client(app)
    sign_in_with_code(client, user("ann", "dispatcher"))
    html = client.get("/dashboard").get_data(as_text=True)
    warning = html.split('data-testid="setup-channel-social"')[1].split("</li>")[0]
    assert "mastdon://mastodon.example #" in warning and "SOCIAL_URLS" in warning
    assert "mastodon://mastodon.example" not in warning  # the good one is not listed
    assert "secret-token" not in html
