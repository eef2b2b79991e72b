"""The shared budget in Redis: one Lua script, one round trip per grant.

Why a script of our own rather than ``limits`` or ``pyrate-limiter``: both keep a *fixed* rate
given by each caller (``limits``' windows count hits against the limit passed to ``hit``;
pyrate-limiter's Redis bucket holds the ``Rate`` list it was created with), and both answer
"allowed or not" without reserving a slot, so a waiting caller polls. A rate that every holder
lowers on throttling and raises on success must live in Redis next to the bucket, and be read
and changed in the same atomic step as the grant; that is the few lines below.

Per limiter, a hash ``resilient_s3:limiter:{name}`` holds:

- a GCRA bucket (``tat``: theoretical arrival time; ``btat`` for bytes): a grant *reserves* its
  slot and returns how long to wait for it, so no caller polls and waiters are served in order;
- the adaptive state (``rate``, ``release``, ``step``, ``last_dec``, ``last_inc``), the AIMD
  of :class:`~resilient_s3.batch.AdaptivePolicy` with one change for a fleet: the additive
  step is ``increase`` x the rate decreased from (what the server accepted, at most the rate
  in force), not the rate offered: a fleet offers its ceiling, and a step scaled to that climbs
  back into throttling at once;
- the answers of the last two windows (sent, answered, throttled), which every holder's grants
  bring along (answers are counted locally and flushed with the next grant: no extra round trip).

A sorted set ``resilient_s3:limiter:{name}:holders`` holds the holders seen in the last 10 s
(their count sets the fallback rate when Redis is unreachable). Both keys expire after an hour
unused. Time is Redis's ``TIME``, so holders on other machines share one clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["SCRIPT", "Grant", "script_args"]

#: KEYS: hash, holders. ARGV: see :func:`script_args`.
SCRIPT = """
local key, holders_key = KEYS[1], KEYS[2]
local ceiling, n, nbytes, bps = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]),
  tonumber(ARGV[4])
local answered, throttled = tonumber(ARGV[5]), tonumber(ARGV[6])
local adaptive = ARGV[7] == '1'
local decrease, increase, threshold = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local window, min_rate, burst_s = tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[13])
local holder, ttl = ARGV[14], tonumber(ARGV[15])

local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000

local f = redis.call('HMGET', key, 'tat', 'btat', 'rate', 'release', 'step', 'last_dec',
  'last_inc', 'win', 'sent', 'ans', 'thr', 'psent', 'pans', 'pthr')
local tat, btat = tonumber(f[1]) or 0, tonumber(f[2]) or 0
local rate = tonumber(f[3])
local release, step = tonumber(f[4]) or 0, tonumber(f[5]) or 0
local last_dec, last_inc = tonumber(f[6]) or 0, tonumber(f[7]) or now
local win = tonumber(f[8]) or now
local sent, ans, thr = tonumber(f[9]) or 0, tonumber(f[10]) or 0, tonumber(f[11]) or 0
local psent, pans, pthr = tonumber(f[12]) or 0, tonumber(f[13]) or 0, tonumber(f[14]) or 0

-- two fixed windows: the current one and the one before
if now - win >= window then
  if now - win < 2 * window then
    psent, pans, pthr = sent, ans, thr
  else
    psent, pans, pthr = 0, 0, 0
  end
  sent, ans, thr, win = 0, 0, 0, now
end
sent, ans, thr = sent + n, ans + answered, thr + throttled

if adaptive then
  local all_ans, all_thr = ans + pans, thr + pthr
  local span = now - win
  if psent + pans > 0 then span = span + window end
  if span < window / 10 then span = window / 10 end
  if throttled > 0 and all_thr >= 2 and all_thr / math.max(all_ans, 20) > threshold
      and now - last_dec >= window then
    local accepted = math.max((all_ans - all_thr) / span, min_rate)
    local base = math.min(rate or ceiling, accepted)
    local offered = (sent + psent) / span
    if rate == nil then release = offered else release = math.max(release, offered) end
    release = math.min(release, ceiling)
    rate = math.max(min_rate, decrease * base)
    step = increase * base
    last_dec, last_inc = now, now
  elseif rate ~= nil and answered > throttled then
    rate = rate + step * (now - last_inc)
    last_inc = now
    if rate >= release then rate = nil end
  end
end
if rate ~= nil and rate >= ceiling then rate = nil end
local effective = rate or ceiling

local wait = 0
if n > 0 then
  local tolerance = (math.max(1, effective * burst_s) - 1) / effective
  local due = math.max(tat, now)
  tat = due + n / effective
  wait = due - tolerance - now
end
if bps > 0 and nbytes > 0 then
  local bdue = math.max(btat, now)
  btat = bdue + nbytes / bps
  wait = math.max(wait, bdue - burst_s - now)
end
if wait < 0 then wait = 0 end

redis.call('HSET', key, 'tat', tat, 'btat', btat, 'release', release, 'step', step,
  'last_dec', last_dec, 'last_inc', last_inc, 'win', win, 'sent', sent, 'ans', ans, 'thr', thr,
  'psent', psent, 'pans', pans, 'pthr', pthr)
if rate == nil then redis.call('HDEL', key, 'rate') else redis.call('HSET', key, 'rate', rate) end
redis.call('PEXPIRE', key, ttl)
redis.call('ZADD', holders_key, now, holder)
redis.call('ZREMRANGEBYSCORE', holders_key, '-inf', now - 10)
redis.call('PEXPIRE', holders_key, ttl)
local holders = redis.call('ZCARD', holders_key)
return {tostring(wait), tostring(effective), holders}
"""


@dataclass(frozen=True)
class Grant:
    """Redis's answer to a grant: ``wait`` seconds until the first slot, the shared ``rate``
    (requests/s) now in force, and how many ``holders`` used the limiter in the last 10 s."""

    wait: float
    rate: float
    holders: int

    @classmethod
    def of(cls, answer: Any) -> Grant:
        """Parse the script's answer ``[wait, rate, holders]``."""
        wait, rate, holders = answer
        return cls(float(wait), float(rate), int(holders))


def script_args(
    *,
    ceiling: float,
    requests: int,
    nbytes: int,
    bytes_per_second: float | None,
    answered: int,
    throttled: int,
    adaptive: Any,
    burst_seconds: float,
    holder: str,
    ttl_ms: int,
) -> list[Any]:
    """The script's ARGV (``adaptive``: an AdaptivePolicy or ``None``)."""
    on = adaptive is not None
    return [
        ceiling,
        requests,
        nbytes,
        bytes_per_second or 0,
        answered,
        throttled,
        "1" if on else "0",
        adaptive.decrease if on else 0.5,
        adaptive.increase if on else 0.1,
        adaptive.threshold if on else 0.1,
        adaptive.window if on else 0.5,
        adaptive.min_rate if on else 1.0,
        burst_seconds,
        holder,
        ttl_ms,
    ]
