"""The lane a job runs in: emergency work paces first, and routine work gives way to it.

A job's lane is the queue it came from (workers/queues.py: `emergency-sms` or `sms`…). An
emergency delivery batch paces on a counter of its own and, while it sends, keeps a flag of its
channel raised. A routine batch looks every POLL_SECONDS (one pipelined round trip) at the
emergency queues its worker serves and at that flag:

- emergency work waits in a queue this worker serves: the batch hands back what it has not
  handed over yet (Withheld with reason YIELDED: the rows go back to `pending`, at the front of
  their queue) and ends, so the worker takes the emergency job next. Messages already with the
  provider finish first; none is cut off mid-call (its outcome would be lost, then resent).
- an emergency batch sends on this channel (another worker's): the routine batch takes no permit
  of the shared rate meanwhile, so the emergency gets all of it; after STAND_ASIDE_SECONDS it
  hands back too, rather than hold claimed rows through a long emergency.

A routine fan-out asks `EmergencyWaiting` between its batches and, when told so, stops and
queues itself again (workers/fan_out.py).
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Callable

import redis
import redis.asyncio
from rq import Queue, Worker, get_current_job

from channels.base import OutboundMessage
from notifier.config import Settings
from notifier.redis_url import connect_async
from workers.queues import is_emergency_queue, lane_queue, redis_connection
from workers.throttle import Throttle, sms_sender

log = logging.getLogger("workers.lane")

POLL_SECONDS = 0.2
# Outlives a few polls of the emergency batch that raises it, and the fork between two of its jobs.
FLAG_SECONDS = 1.0
STAND_ASIDE_SECONDS = 30.0
YIELDED = "handed back: emergency work first"
FLAG_PREFIX = "tocsin:lane:emergency-sending"


def flag_key(channel: str) -> str:
    """Set while an emergency batch sends on `channel` (routine batches take no permit then)."""
    return f"{FLAG_PREFIX}:{channel}"


def current_job_is_emergency() -> bool:
    """True when the job running now came from an emergency queue."""
    job = get_current_job()
    return job is not None and is_emergency_queue(job.origin)


def served_emergency_queues(connection: redis.Redis) -> tuple[str, ...]:
    """The emergency queues of the worker running the current job; () outside a worker."""
    job = get_current_job()
    if job is None or not job.worker_name:
        return ()
    raw = connection.hget(Worker.redis_worker_namespace_prefix + job.worker_name, "queues")
    names = raw.decode().split(",") if raw else []
    return tuple(n for n in names if is_emergency_queue(n))


def _queue_key(name: str) -> str:
    return Queue.redis_queue_namespace_prefix + name


class EmergencyWaiting:
    """`waiting()`: is emergency work queued where this worker would take it next? For the
    fan-out, which runs no event loop: one pipelined round trip per audience batch, nothing
    beside a batch's own SQL."""

    def __init__(self, connection: redis.Redis, queues: tuple[str, ...]):
        self.connection = connection
        self.queues = queues

    def waiting(self) -> bool:
        if not self.queues:
            return False
        try:
            with self.connection.pipeline(transaction=False) as pipe:
                for name in self.queues:
                    pipe.llen(_queue_key(name))
                return any(pipe.execute())
        except (redis.RedisError, OSError):
            return False  # no queue can be read: nothing to give way to


class Lane:
    """A delivery batch's pace and hold in its lane: `pace()` for the channel, `hold(gate)` for
    Channel.send_batch (this object, wrapping the gate)."""

    def __init__(self, settings: Settings, channel: str, emergency: bool,
                 watched: tuple[str, ...] = (), clock: Callable[[], float] = time.monotonic):
        self.settings = settings
        self.channel = channel
        self.emergency = emergency
        self.watched = () if emergency else tuple(watched)
        self.clock = clock
        self.throttle: Throttle | None = None
        self.yielded = False
        self.aside = False
        self._aside_since: float | None = None
        self._gate = None
        self._watcher: asyncio.Task | None = None
        self._gave_way: asyncio.Future | None = None
        self._connection: redis.asyncio.Redis | None = None
        self._warned = False

    @classmethod
    def of_current_job(cls, settings: Settings, channel: str) -> "Lane":
        """The lane of the RQ job running now (routine, watching nothing, outside a worker)."""
        if current_job_is_emergency():
            return cls(settings, channel, True)
        return cls(settings, channel, False, served_emergency_queues(redis_connection(settings)))

    def pace(self):
        """The `pace` coroutine for the channel in this lane; None when the channel has no rate.

        Each lane counts its permits apart (`sms` and `emergency-sms`): the routine lane stops
        taking any while an emergency batch sends, and the emergency counter skips permits whose
        time is gone, so the two together keep to the rate."""
        rate = self.settings.per_second.get(self.channel, 0) or 0
        if rate <= 0:
            return None
        self.throttle = Throttle(redis_connection(self.settings),
                                 lane_queue(self.channel, self.emergency), rate,
                                 sender=sms_sender(self.settings, self.channel))
        return self._pace

    def hold(self, gate) -> "Lane":
        self._gate = gate
        return self

    def __call__(self, message: OutboundMessage, final: bool):
        self._start_watching()
        if self.yielded:
            return YIELDED
        return self._gate(message, final) if self._gate is not None else None

    async def _pace(self, cost: int = 1) -> None:
        self._start_watching()
        if self.emergency or self._gave_way is None:
            await self.throttle.pace(cost)
            return
        while not self.yielded:
            if self.aside:
                await asyncio.wait([self._gave_way], timeout=POLL_SECONDS)
                continue
            permit = asyncio.ensure_future(self.throttle.pace(cost))
            await asyncio.wait([permit, self._gave_way], return_when=asyncio.FIRST_COMPLETED)
            if not permit.done():
                permit.cancel()  # no permit is used: the hold withholds the message next
                return
            permit.result()
            if not self.aside:
                return
            # The permit came just as an emergency began sending here: it stays unused.

    def _start_watching(self) -> None:
        if self._watcher is not None:
            return
        if not (self.watched or self.throttle is not None):
            return
        loop = asyncio.get_running_loop()
        self._gave_way = loop.create_future()
        self._watcher = loop.create_task(self._watch())

    async def _watch(self) -> None:
        self._connection = connect_async(self.settings.redis_url)
        while not self.yielded:
            try:
                if self.emergency:
                    await self._connection.set(flag_key(self.channel), 1,
                                               px=int(FLAG_SECONDS * 1000))
                else:
                    await self._look()
            except Exception as exc:
                # Without Redis no emergency job can be queued either: carry on sending.
                self.aside = False
                if not self._warned:
                    self._warned = True
                    log.warning("%s: lane unreadable (%s); not giving way", self.channel, exc)
            await asyncio.sleep(POLL_SECONDS)

    async def _look(self) -> None:
        async with self._connection.pipeline(transaction=False) as pipe:
            for name in self.watched:
                pipe.llen(_queue_key(name))
            if self.throttle is not None:
                pipe.exists(flag_key(self.channel))
            answers = await pipe.execute()
        waiting = any(answers[:len(self.watched)])
        sending = self.throttle is not None and bool(answers[len(self.watched)])
        now = self.clock()
        if sending and self._aside_since is None:
            self._aside_since = now
        elif not sending:
            self._aside_since = None
        self.aside = sending
        if waiting or (sending and now - self._aside_since >= STAND_ASIDE_SECONDS):
            log.info("%s batch gives way: %s", self.channel,
                     "emergency work is queued" if waiting else "a long emergency is sending")
            self.yielded = True
            if not self._gave_way.done():
                self._gave_way.set_result(None)

    async def aclose(self) -> None:
        """Stop watching and close the gate's connection; the channel calls this at the end."""
        # Bounded: a Redis call cut off by the cancel must not keep the batch from ending.
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.wait([self._watcher], timeout=1.0)
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                await asyncio.wait_for(connection.aclose(), 1.0)
            except Exception:  # the batch is over either way
                pass
        closer = getattr(self._gate, "aclose", None)
        if closer is not None:
            await closer()
