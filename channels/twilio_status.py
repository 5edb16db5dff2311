"""Twilio's status callbacks in our words: its MessageStatus / CallStatus words and error codes
mapped to a notifier.provider_callbacks.StatusReport (the view only verifies and hands it on)."""
from __future__ import annotations

from typing import Mapping

from notifier import deliveries
from notifier.provider_callbacks import StatusReport

# Twilio error 21610: the recipient replied STOP to the carrier; they must get no more SMS.
CARRIER_OPT_OUT = "21610"

# Twilio's MessageStatus / CallStatus → ours; None: progress we do not record.
MESSAGE_STATUSES = {
    "queued": None, "accepted": None, "scheduled": None, "sending": None,
    "sent": deliveries.SENT,
    "delivered": deliveries.DELIVERED, "read": deliveries.DELIVERED,
    "undelivered": deliveries.UNDELIVERED,
    "failed": deliveries.FAILED, "canceled": deliveries.FAILED,
}
CALL_STATUSES = {
    "queued": None, "initiated": None, "ringing": None, "in-progress": None,
    "completed": deliveries.DELIVERED,
    # A call nobody answered warned nobody: busy/no-answer are dialled again (VOICE_RETRIES,
    # VOICE_RETRY_SECONDS apart); they fail only once those are used up.
    "busy": deliveries.FAILED, "no-answer": deliveries.FAILED,
    "failed": deliveries.FAILED, "canceled": deliveries.FAILED,
}
REDIAL_STATUSES = frozenset({"busy", "no-answer"})


def report_of(form: Mapping[str, str]) -> StatusReport:
    """What a (signed) Twilio status callback says, as a StatusReport."""
    sid = (form.get("MessageSid") or form.get("CallSid") or "").strip()
    error_code = (form.get("ErrorCode") or "").strip() or None
    if "MessageStatus" in form:
        word = form.get("MessageStatus", "").strip().lower()
        return StatusReport(provider_id=sid, status=MESSAGE_STATUSES.get(word), word=word,
                            error_code=error_code,
                            error_message=form.get("ErrorMessage") or None,
                            opt_out=error_code == CARRIER_OPT_OUT,
                            account=(form.get("AccountSid") or "").strip())
    word = form.get("CallStatus", "").strip().lower()
    return StatusReport(provider_id=sid, status=CALL_STATUSES.get(word), word=word,
                        error_code=error_code, error_message=form.get("ErrorMessage") or None,
                        unanswered=word in REDIAL_STATUSES,
                        answered_by=(form.get("AnsweredBy") or "").strip() or None,
                        account=(form.get("AccountSid") or "").strip())
