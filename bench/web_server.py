"""The app under gunicorn for the benchmarks, started as the Procfile does (gthread workers)."""
from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start_gunicorn(args, env: dict, port: int, logfile: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
               "--workers", str(args.gunicorn_workers), "--threads", str(args.threads),
               "--worker-class", "gthread", "--timeout", "60",
               "--backlog", str(max(2048, 4 * args.concurrency))]
    if args.access_log:  # as the Procfile, but to a file: a pipe nobody reads would block
        command += ["--access-logfile", str(logfile.with_name("access.log"))]
    with open(logfile, "a") as handle:
        return subprocess.Popen(command + ["admin_ui:create_app()"], cwd=ROOT, env=env,
                                start_new_session=True, stdout=handle, stderr=subprocess.STDOUT)


def wait_healthy(base: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError as exc:  # refused while booting, or 503 while a part is down
            last = str(exc)
        time.sleep(0.2)
    raise RuntimeError(f"/healthz did not answer 200 within {timeout:.0f} s ({last})")



def serve(args, env: dict, port: int, workdir: Path, procs: list) -> subprocess.Popen:
    """gunicorn started (and registered in `procs` for clean-up) and answering /healthz.

    Raises RuntimeError, with the end of gunicorn's log, when it does not come up."""
    server = start_gunicorn(args, env, port, workdir / "gunicorn.log")
    procs.append(server)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", server)
    except RuntimeError as exc:
        raise RuntimeError(f"{exc}; gunicorn's log ends with:\n" + gunicorn_log_tail(workdir))
    return server


def gunicorn_log_tail(workdir: Path) -> str:
    """The last lines `serve`'s gunicorn wrote, for a failure message."""
    return (workdir / "gunicorn.log").read_text(errors="replace")[-3000:]
