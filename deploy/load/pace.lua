-- Shared by webhook.lua and quote.lua: pacing to a target rate, and the
-- one-line result run.sh reads.
--
-- Pacing: with WRK_RATE=R (requests/s over all threads; WRK_THREADS=t, the
-- -t value, default 1), each thread hands out send times R/t per second
-- apart, and a connection ready to send waits for the next free one
-- (wrk's delay(), whole milliseconds). The schedule is absolute, so
-- rounding does not accumulate, and a slow response delays only its own
-- connection: with enough connections (-c well above R × latency) requests
-- go out on schedule. wrk still times each request from when it is sent.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } otp_timespec;
  int clock_gettime(int clk_id, otp_timespec *tp);
]]
local ts = ffi.new("otp_timespec")
local CLOCK_MONOTONIC = 1

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local M = {}

-- delay returns a wrk delay() function for WRK_RATE, or nil without it.
function M.delay()
  local rate = tonumber(os.getenv("WRK_RATE") or "")
  if not rate or rate <= 0 then return nil end
  local threads = tonumber(os.getenv("WRK_THREADS") or "") or 1
  local gap = 1000 * threads / rate -- ms between this thread's sends
  local next_at
  return function()
    local t = now_ms()
    if not next_at or next_at < t - 1000 then next_at = t end -- start, or fell a second behind: do not burst
    local wait = next_at - t
    next_at = next_at + gap
    if wait <= 0 then return 0 end
    return math.floor(wait + 0.5)
  end
end

-- report prints the result line.
function M.report(summary, latency)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_s=%.2f rps=%.0f p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx=%d socket_errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.status, e.connect + e.read + e.write + e.timeout))
end

return M
