"""Sign-in counters in Redis: an attempt is reserved (counted) atomically before it is checked.

The policy (how many, how long) is `notifier.login_policy`; this module only keeps the counts.
One Lua script checks and counts in a single step, so a parallel burst cannot slip more
attempts past the limit than it allows. Keys hold hashes, never a name or address in clear.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

import redis

from notifier import login_policy as policy

log = logging.getLogger(__name__)

PASSWORD = "password"
CODE = "totp"  # wrong codes are counted apart: a right password then wrong codes is another story
_PREFIX = "tocsin:signin:"
_UNKNOWN_NAMES = _PREFIX + "unknown-names"

# KEYS: 1 the (kind, account, address) hash {n, last}; 2 the address's failures; 3 its refusals.
# ARGV: now, window, max failures, address limit (0: none), then the delays of the policy.
# Returns {allowed 0/1, seconds to wait, "account"/"address"/"", failures counting this one,
# refusals counting this one}.
_RESERVE = """
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local max_failures, address_limit = tonumber(ARGV[3]), tonumber(ARGV[4])
local delays = #ARGV - 4
local function delay_after(n)
  if n < max_failures then return 0 end
  return tonumber(ARGV[4 + math.min(n - max_failures + 1, delays)])
end
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
local last = tonumber(redis.call('HGET', KEYS[1], 'last') or '0')
local wait, scope = 0, ''
if address_limit > 0 and tonumber(redis.call('GET', KEYS[2]) or '0') >= address_limit then
  wait, scope = redis.call('TTL', KEYS[2]), 'address'
  if wait < 1 then wait = window end
elseif n >= max_failures and last + delay_after(n) > now then
  wait, scope = math.ceil(last + delay_after(n) - now), 'account'
end
if wait > 0 then
  local refused = redis.call('INCR', KEYS[3])
  redis.call('EXPIRE', KEYS[3], window, 'NX')
  return {0, wait, scope, n, refused}
end
n = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSET', KEYS[1], 'last', ARGV[1])
redis.call('EXPIRE', KEYS[1], window + delay_after(n))
if address_limit > 0 then
  redis.call('INCR', KEYS[2])
  redis.call('EXPIRE', KEYS[2], window, 'NX')
end
return {1, 0, '', n, 0}
"""

# KEYS: 1 the (kind, account, address) hash; 2 the address's failures (or the same key again).
# The attempt was right: forget the account's failures, hand the address its reservation back.
_SUCCEEDED = """
redis.call('DEL', KEYS[1])
if KEYS[2] ~= KEYS[1] and tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then
  redis.call('DECR', KEYS[2])
end
return 1
"""


@dataclass(frozen=True)
class Attempt:
    """What `reserve` decided: go ahead (counted as a failure until `succeeded`) or wait."""

    allowed: bool
    retry_after: int = 0  # seconds, when refused
    scope: str = ""  # "account" (this account at this address) or "address" (every name)
    failures: int = 1  # failures of this account at this address, counting this attempt
    refused: int = 0  # refusals at this address in the window, counting this one


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:32]


def _keys(kind: str, name: str, address: str) -> list[str]:
    return [f"{_PREFIX}{kind}:{_digest(name.strip().lower(), address)}",
            f"{_PREFIX}address:{_digest(address)}", f"{_PREFIX}refused:{_digest(address)}"]


def reserve(conn: redis.Redis, kind: str, name: str, address: str, now: datetime) -> Attempt:
    """Count an attempt of `kind` as `name` from `address` before it is checked, or refuse it.

    Password attempts also count towards the address's limit across all names; codes do not
    (a code is only asked of someone who gave the right password). Fails open when Redis is
    unreachable: in a crisis a dispatcher must still get in.
    """
    address_limit = policy.ADDRESS_LIMIT if kind == PASSWORD else 0
    args = [now.timestamp(), policy.WINDOW_SECONDS, policy.MAX_FAILURES, address_limit,
            *policy.delays()]
    try:
        allowed, wait, scope, failures, refused = conn.eval(
            _RESERVE, 3, *_keys(kind, name, address), *args)
    except redis.RedisError as exc:
        log.warning("sign-in throttle unavailable (Redis): %s", exc)
        return Attempt(allowed=True)
    scope = scope.decode() if isinstance(scope, bytes) else scope
    return Attempt(bool(allowed), int(wait), scope, int(failures), int(refused))


def succeeded(conn: redis.Redis, kind: str, name: str, address: str) -> None:
    """The reserved attempt was right: clear this account's failures at this address."""
    keys = _keys(kind, name, address)
    try:
        conn.eval(_SUCCEEDED, 2, keys[0], keys[1] if kind == PASSWORD else keys[0])
    except redis.RedisError as exc:
        log.warning("sign-in throttle unavailable (Redis): %s", exc)


def count_unknown_name(conn: redis.Redis) -> int:
    """Count a failed sign-in as a name that is no account, from anywhere; return the count.

    One counter for every address: a flood from many addresses is still audited by log2.
    """
    try:
        pipe = conn.pipeline()
        pipe.incr(_UNKNOWN_NAMES)
        pipe.expire(_UNKNOWN_NAMES, policy.WINDOW_SECONDS, nx=True)
        count, _ = pipe.execute()
        return int(count)
    except redis.RedisError as exc:
        log.warning("sign-in throttle unavailable (Redis): %s", exc)
        return 1
