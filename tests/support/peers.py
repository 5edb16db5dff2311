"""Where the real third-party test material lies: `tests/peers/` in the checkout (see its SOURCE.txt)."""
from __future__ import annotations

from pathlib import Path

# Inside the repository only: a fresh clone anywhere must find everything its tests read.
PEERS = Path(__file__).resolve().parents[1] / "peers"
CAP_SCHEMA = PEERS / "cap" / "CAP-v1.2.xsd"
TWILIO_OPENAPI = PEERS / "twilio" / "twilio_api_v2010.json"
