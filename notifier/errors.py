"""The domain's exceptions, in one place so every layer can catch them by name."""
from __future__ import annotations


class TocsinError(Exception):
    """Base for every error the domain raises on purpose."""


class ConfigError(TocsinError):
    """A setting is missing or malformed; start-up stops with the variable's name."""

    def __init__(self, variable: str, message: str):
        super().__init__(f"{variable}: {message}")
        self.variable = variable
        self.message = message


class TemplateFileError(TocsinError):
    """A file under locales/templates/ does not follow its shape; start-up stops, naming the
    file and the field (`notifier.alert_templates`)."""


class InvalidInput(TocsinError):
    """Input failed validation; `errors` maps field names to lists of messages."""

    def __init__(self, errors: dict):
        super().__init__(str(errors))
        self.errors = errors


class UnreadableDocument(InvalidInput):
    """A document refused before it is read: not XML, or a DTD or entities (HTTP 400)."""


class DocumentTooLarge(InvalidInput):
    """A document over the size limit, refused unread (HTTP 413)."""


class Conflict(TocsinError):
    """The request clashes with stored state (duplicate phone, alert already sent…)."""

    def __init__(self, message: str, existing_id: int | None = None):
        super().__init__(message)
        self.message = message
        self.existing_id = existing_id


class NotFound(TocsinError):
    """No such object."""


class Forbidden(TocsinError):
    """The actor may not do this, whatever the input (e.g. approve their own alert)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ApprovalRequired(Conflict):
    """The two-person rule: the alert needs a second person's approval before it is sent.

    `approval` holds why: {"needed", "residents", "over_threshold", "larger_than_any_zone",
    "everyone", "reasons"}.
    """

    def __init__(self, approval: dict):
        super().__init__("approval required")
        self.approval = approval


class MachineTranslationNotAccepted(Conflict):
    """An Actual alert whose `languages` were machine translated is sent without the sender
    accepting them (`accept_machine_translation`): nothing is queued (DESIGN §11)."""

    def __init__(self, languages: list[str], message: str):
        super().__init__(message)
        self.languages = languages


class TranslationUnavailable(TocsinError):
    """No machine translation now: TRANSLATE_URL is unset, or its server failed (HTTP 503)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
