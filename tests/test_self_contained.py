"""A fresh clone stands alone: no tracked file reads or links a folder beside the checkout."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.support.peers import CAP_SCHEMA, PEERS, TWILIO_OPENAPI

ROOT = Path(__file__).resolve().parent.parent
# Spelled in pieces so this file passes its own check (and `git grep` for it).
NAME = "sha" + "red"
SIBLING = "../" + NAME
# The folder's name as a string in code, as tests/support/peers.py once built the path.
SIBLING_IN_CODE = re.compile(r"""(["'])""" + NAME + r"""\1""")


def tracked_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    return [ROOT / name for name in out.stdout.decode().split("\0") if name]


def test_no_tracked_file_reads_or_links_a_shared_folder_beside_the_checkout():
    files = tracked_files()
    assert len(files) > 100
    offenders = []
    for path in files:
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if SIBLING in line or (path.suffix == ".py" and SIBLING_IN_CODE.search(line)):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert offenders == [], "\n".join(offenders)


def test_the_third_party_test_material_lies_inside_the_repository_with_its_source():
    assert PEERS == ROOT / "tests" / "peers"
    tracked = {p.relative_to(ROOT).as_posix() for p in tracked_files()}
    for path in (CAP_SCHEMA, TWILIO_OPENAPI, PEERS / "cap" / "SOURCE.txt",
                 PEERS / "twilio" / "SOURCE.txt"):
        assert path.relative_to(ROOT).as_posix() in tracked, path
    assert len(list((PEERS / "cap").glob("*.xml"))) == 10
