"""The tooling behind `make run`, `make test` and CI, run as real processes."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.services import free_port

ROOT = Path(__file__).resolve().parent.parent


def run(args: list[str], env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


def test_the_test_runner_fails_when_pytest_collects_nothing_and_says_postgres_was_skipped():
    dead_postgres = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test"
    result = run([sys.executable, "scripts/run_tests.py", "-q", "-p", "no:xdist",
                  "-k", "no_test_has_this_name", "tests/test_makefile_and_ci.py"],
                 env={"TEST_POSTGRES_URL": dead_postgres})
    assert result.returncode != 0
    assert "collected no tests" in result.stdout
    assert "PostgreSQL pass SKIPPED" in result.stdout


def test_ensure_redis_prints_a_configured_redis_that_answers(redis_server):
    result = run([sys.executable, "scripts/ensure_redis.py"], env={"REDIS_URL": redis_server})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == redis_server


def test_ensure_redis_refuses_a_configured_redis_that_does_not_answer():
    url = f"redis://127.0.0.1:{free_port()}/0"
    result = run([sys.executable, "scripts/ensure_redis.py"], env={"REDIS_URL": url})
    assert result.returncode == 1
    assert "REDIS_URL" in result.stderr and result.stdout == ""


def test_ci_script_and_procfile_are_well_formed():
    assert run(["bash", "-n", ".ci/run"]).returncode == 0
    processes = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines()
                     if line.strip())
    assert "admin_ui:create_app()" in processes["web"]
    assert processes["worker"].split() == ["python", "-m", "workers"]


def _stand_in_venv(tmp_path: Path) -> Path:
    """A .venv whose python and honcho only say what `make run` handed them."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    scripts = {"python": '#!/bin/sh\n[ "$1" = scripts/ensure_redis.py ] && echo redis://127.0.0.1:1/0\nexit 0\n',
               "honcho": '#!/bin/sh\necho "web and worker get SANDBOX=${SANDBOX-unset}"\n'}
    for name, text in scripts.items():
        (venv / "bin" / name).write_text(text)
        (venv / "bin" / name).chmod(0o755)
    (venv / ".installed-run").touch()  # newer than requirements.txt: nothing to install
    return venv


def test_make_run_sets_sandbox_explicitly_on_a_fresh_machine_and_says_so(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("SANDBOX", "MAKEFLAGS", "MFLAGS")}
    result = subprocess.run(["make", "-s", f"VENV={_stand_in_venv(tmp_path)}", "run"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "SANDBOX=1 (set by make run)" in result.stdout
    assert "web and worker get SANDBOX=1" in result.stdout


def test_make_run_keeps_a_sandbox_setting_from_the_environment(tmp_path):
    result = run(["make", "-s", f"VENV={_stand_in_venv(tmp_path)}", "run"], env={"SANDBOX": "0"},
                 timeout=60)
    assert result.returncode == 0, result.stderr
    assert "set by make run" not in result.stdout
    assert "web and worker get SANDBOX=0" in result.stdout


def test_make_run_hands_web_and_worker_an_emptied_metrics_directory(tmp_path):
    venv = _stand_in_venv(tmp_path)
    (venv / "bin" / "honcho").write_text('#!/bin/sh\nD="$PROMETHEUS_MULTIPROC_DIR"\n'
                                         'echo "metrics in $D:$(ls "$D")."\n')
    instance = tmp_path / "instance"
    (instance / "prometheus").mkdir(parents=True)
    (instance / "prometheus" / "counter_4242.db").write_bytes(b"left by the last run")
    result = run(["make", "-s", f"VENV={venv}", "run"],
                 env={"SANDBOX": "1", "TOCSIN_INSTANCE": str(instance)}, timeout=60)
    assert result.returncode == 0, result.stderr
    assert f"metrics in {instance / 'prometheus'}:." in result.stdout


def test_make_run_names_the_settings_residents_see_while_they_are_the_demos(tmp_path):
    venv = _stand_in_venv(tmp_path)
    # The real `python -m notifier setup-check`; every other step stands in.
    (venv / "bin" / "python").write_text(
        '#!/bin/sh\n[ "$1" = scripts/ensure_redis.py ] && echo redis://127.0.0.1:1/0 && exit 0\n'
        f'[ "$3" = setup-check ] && exec {sys.executable} "$@"\nexit 0\n')
    quiet = {k: "" for k in ("AGENCY_NAME", "AGENCY_CONTACT", "TIMEZONE", "PUBLIC_URL")}
    result = run(["make", "-s", f"VENV={venv}", "run"],
                 env={**quiet, "SANDBOX": "1", "TOCSIN_INSTANCE": str(tmp_path / "i")}, timeout=60)
    assert result.returncode == 0, result.stderr
    for name in ("AGENCY_NAME = Tocsin demo", "AGENCY_CONTACT = (not set)", "TIMEZONE = UTC",
                 "PUBLIC_URL = http://127.0.0.1:5000"):
        assert name in result.stdout
    assert "seen in: HELP replies" in result.stdout
    done = run(["make", "-s", f"VENV={venv}", "run"], timeout=60, env={
        "SANDBOX": "1", "TOCSIN_INSTANCE": str(tmp_path / "i"), "AGENCY_NAME": "Springfield PD",
        "AGENCY_CONTACT": "311", "TIMEZONE": "America/Chicago",
        "PUBLIC_URL": "https://alerts.springfield.example"})
    assert "still at the demo's defaults" not in done.stdout and "are set." in done.stdout
