"""`python -m notifier import-addresses FILE.csv`: the city's address points (DESIGN §12)."""
from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

from notifier.cli import CommandError, utcnow
from notifier.config import Settings

# The API's import limit too (DESIGN §10): enough to fix a file by, not a wall of text.
SHOW_REJECTED = 1000


def cmd_import_addresses(args, settings: Settings) -> int:
    """Print each rejected row as `row N: reason`, then `imported N, rejected M`."""
    from tqdm import tqdm

    from notifier.address_import import import_points, read_rows
    from notifier.db import session_scope
    from notifier.errors import InvalidInput

    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8-sig")  # Excel writes a BOM
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CommandError(f"{path}: is a folder, not a CSV file") from None
    except PermissionError:
        raise CommandError(f"{path}: not allowed to read it") from None
    except UnicodeDecodeError:
        raise CommandError(f"{path}: not UTF-8 text; save the CSV as UTF-8") from None
    try:
        rows = read_rows(text)
    except InvalidInput as exc:
        raise CommandError(f"{path}: {exc.errors['header'][0]}") from None
    # A TTY only (disable=None): a log file gets the summary, not a thousand bar redraws.
    with tqdm(total=max(text.count("\n") - 1, 0), unit="row", file=sys.stderr, disable=None,
              leave=False) as bar:
        totals = import_points(partial(session_scope, settings.database_url), rows, utcnow(),
                               progress=bar.update)
    rejected = totals["rejected"]
    for number, reason in rejected[:SHOW_REJECTED]:
        print(f"row {number}: {reason}")
    if len(rejected) > SHOW_REJECTED:
        print(f"… and {len(rejected) - SHOW_REJECTED} more rejected rows")
    print(f"imported {totals['imported']}, rejected {len(rejected)} "
          f"({totals['created']} new points, {totals['updated']} updated)", flush=True)
    return 0

