"""Words the pages translate by value (`_(c)` for a channel code, `_(field)` in an error list,
`_(role)`): listed here so that `pybabel extract` finds them. CAP's own words are marked where
they are defined (notifier/schemas.py); labels with their own wording are in labels.py."""
from __future__ import annotations

from notifier.i18n import N_

CHANNEL_CODES = (N_("sms"), N_("voice"), N_("email"), N_("social"), N_("webhook"))
ROLES = (N_("admin"), N_("dispatcher"), N_("auditor"))
# Field names an error summary links to (compose, subscriber and account forms).
FIELDS = (N_("headline"), N_("event"), N_("messages"), N_("area"), N_("channels"),
          N_("expires_at"), N_("category"), N_("severity"), N_("urgency"), N_("certainty"),
          N_("instruction"), N_("status"), N_("msg_type"), N_("confirm"), N_("name"),
          N_("phone"), N_("language"), N_("zones"), N_("location"), N_("role"), N_("csv"),
          N_("password"), N_("address"), N_("quiet_hours"))
# Alert states and delivery statuses where a page shows the raw value (reports, badges).
STATES = (N_("draft"), N_("sending"), N_("sent"), N_("cancelled"), N_("pending"),
          N_("delivered"), N_("failed"), N_("undelivered"), N_("retry_wait"), N_("skipped"),
          N_("scheduled"))
