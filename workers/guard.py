"""Workers run only Tocsin's own job functions: anything else found in Redis is refused, not run.

Whoever can write to Redis can put a job there. RQ would import and call whatever dotted
name the job carries, unpickle its payload (pickle runs code while loading) and call its
success/failure callbacks: three ways to run code as the worker. So jobs travel as JSON, and
a job is performed only when it names one of the functions below with arguments of the
expected shape, and carries no callbacks.
"""
from __future__ import annotations

import logging
import os

from rq import SimpleWorker, Worker
from rq.job import Job

from workers import metrics
from workers.queues import CANCEL_NOTICE, DELIVER, FAN_OUT, INBOX_REPLY, QUEUES, SERIALIZER, with_twins

log = logging.getLogger("workers.guard")

PUBSUB_POLL_SECONDS = 1.0


def _ids(value) -> bool:
    return isinstance(value, list) and all(type(i) is int for i in value)


# Each allowed function and a check of its positional arguments (as JSON gives them back).
ALLOWED = {
    FAN_OUT: lambda args: len(args) == 1 and type(args[0]) is int,
    DELIVER: lambda args: len(args) == 2 and args[0] in QUEUES and _ids(args[1]),
    INBOX_REPLY: lambda args: len(args) == 1 and type(args[0]) is int,
    CANCEL_NOTICE: lambda args: len(args) == 1 and type(args[0]) is int,
}


class JobRefused(Exception):
    """A job that names anything but Tocsin's own job functions; it fails without running."""


def refusal(job: Job) -> str | None:
    """Why `job` must not run, or None when it is one of Tocsin's own jobs."""
    name = job.func_name
    if name not in ALLOWED:
        return f"job {job.id} names {name!r}, which is not a Tocsin job function"
    names = (job._success_callback_name, job._failure_callback_name, job._stopped_callback_name)
    if any(names) or job.webhooks:
        return f"job {job.id} carries callbacks or webhooks; Tocsin's jobs have none"
    if job.instance is not None or job.kwargs or not ALLOWED[name](list(job.args)):
        return f"job {job.id}: arguments of {name} are not the expected ids"
    return None


class TocsinJob(Job):
    """A job that resolves its function only after `refusal` found nothing wrong."""

    @property
    def func(self):
        reason = refusal(self)
        if reason:
            log.error("refused %s", reason)
            raise JobRefused(reason)
        return super().func

    def _deserialize_data(self):
        super()._deserialize_data()
        # JSON has no tuples; the job functions, like RQ with pickle, get a tuple of arguments.
        if isinstance(self._args, list):
            self._args = tuple(self._args)

    # Never import a callback named in Redis (RQ calls the failure callback of a refused job).
    @property
    def success_callback(self):
        return None

    @property
    def failure_callback(self):
        return None

    @property
    def stopped_callback(self):
        return None

    def send_webhooks(self, status, *, exc_string=None) -> None:
        """Never: a webhook URL read from Redis would make the worker call anywhere."""


class _Guarded:
    job_class = TocsinJob

    def __init__(self, queues, *args, **kwargs):
        kwargs["serializer"] = SERIALIZER
        kwargs["job_class"] = TocsinJob
        # Asked for `sms`, a worker serves `emergency-sms` too, and first (workers/queues.py).
        super().__init__(with_twins(queues), *args, **kwargs)

    def subscribe(self):
        """RQ's command channel, read every second rather than every 60 s.

        redis-py 8.2's PubSubWorkerThread.stop() joins the thread with no time limit, and RQ
        reads with `sleep_time=60`: every worker's exit (a burst worker done, a SIGTERM at a
        deploy) waited up to a minute on a thread that had nothing left to read."""
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=PUBSUB_POLL_SECONDS, daemon=True,
            exception_handler=self._pubsub_exception_handler)

    def unsubscribe(self):
        # A thread that read the UNSUBSCRIBE reply first goes back to wait for a message for
        # sleep_time; told to stop first, it leaves on that reply, so exit does not wait at all.
        if self.pubsub_thread is not None:
            self.pubsub_thread._running.clear()
        super().unsubscribe()


class TocsinWorker(_Guarded, Worker):
    """`python -m workers`: RQ's forking worker, running only Tocsin's jobs."""

    def main_work_horse(self, job, queue):
        metrics.run_as_horse_of(os.getppid())  # one set of metric files for all its horses
        super().main_work_horse(job, queue)


class TocsinSimpleWorker(_Guarded, SimpleWorker):
    """The same in-process, for tests and benchmarks."""
