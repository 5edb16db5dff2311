"""Entry point of `python -m notifier`; the composition root that may also wire `workers`."""
from __future__ import annotations

import sys

from notifier.cli import main, utcnow


def cmd_resume(args, settings) -> int:
    """Re-enqueue unfinished work from the database (after Redis was lost or flushed)."""
    # The one place where `notifier` reaches up into `workers`: the domain itself never imports
    # RQ, but this entry point composes the layers, like the Procfile does.
    from workers.sweep import resume

    result = resume(settings, utcnow())
    parts = ", ".join(f"{key} {value}" for key, value in result.items()) or "nothing to do"
    print(f"Resumed: {parts}", flush=True)
    return 0


def cmd_setup_check(args, settings) -> int:
    """Say which settings residents will see are still the demo's (`make run` calls it)."""
    from notifier.setup_check import optional_text, startup_text

    text = startup_text(settings)
    print(text or "Residents' settings (AGENCY_NAME, AGENCY_CONTACT, TIMEZONE, PUBLIC_URL) are set.",
          flush=True)
    if optional_text(settings):
        print(optional_text(settings), flush=True)
    return 0


EXTRA = {"resume": ("re-enqueue unfinished work from the database", cmd_resume),
         "setup-check": ("list the settings residents see that are still the demo's defaults",
                         cmd_setup_check)}

if __name__ == "__main__":
    sys.exit(main(extra=EXTRA))
