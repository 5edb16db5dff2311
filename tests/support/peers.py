"""Where the real third-party material lies: `../shared/peers` beside the checkout (or $TOCSIN_PEERS)."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PEERS = Path(os.environ.get("TOCSIN_PEERS") or ROOT.parent / "shared" / "peers")
CAP_SCHEMA = PEERS / "cap" / "CAP-v1.2.xsd"
TWILIO_OPENAPI = PEERS / "twilio" / "twilio_api_v2010.json"
