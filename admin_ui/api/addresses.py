"""`GET /api/v1/addresses?q=`: address points by the start of the address or of a word (§12).

Public (a sign-up page asks it as a resident types), so it is limited per client address.
"""
from __future__ import annotations

from flask import request

from admin_ui import db, error_response, get_settings
from admin_ui import rate_limit
from admin_ui.api import bp, public
from notifier import address_points
from notifier.address_models import ADDRESS_MAX
from notifier.errors import InvalidInput
from workers.queues import redis_connection

MIN_QUERY = 2  # characters once normalized: one letter matches a tenth of the town
SEARCHES_PER_MINUTE = 120  # per client address: a fast typist asks 3 or 4 times a second


@bp.get("/addresses")
@public
def search_addresses():
    """{"items": [{address, lat, lon, zone}]}: at most 10 address points matching q.

    Whole-address prefix matches come first (alphabetically), then matches at the start of a
    later word (alphabetically by those words, then by address). Case, accents and punctuation
    are ignored. A q under 2 letters or digits gives no items; over 200 characters, 422.
    Limited to 120 searches a minute per client address (429 with Retry-After).
    """
    verdict = rate_limit.check(redis_connection(get_settings()), "addresses",
                               rate_limit.client_address(), SEARCHES_PER_MINUTE, 60)
    if not verdict.allowed:
        response = error_response(429, f"too many address searches; try again in "
                                       f"{verdict.retry_after} seconds")
        response.headers["Retry-After"] = str(verdict.retry_after)
        return response
    q = request.args.get("q", "")
    if len(q) > ADDRESS_MAX:
        raise InvalidInput({"q": [f"must be at most {ADDRESS_MAX} characters"]})
    if len(address_points.normalize(q)) < MIN_QUERY:
        return {"items": []}
    points = address_points.search(db(), q)
    return {"items": [address_points.point_dict(point) for point in points]}
