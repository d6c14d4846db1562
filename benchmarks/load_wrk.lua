-- wrk script of benchmarks/load_server.py (also usable by hand):
--   LOAD_MODE=convert|get  LOAD_RATE=<requests/s over all threads, 0 = as fast as possible>
--   wrk -t2 -c16 -d10s -s benchmarks/load_wrk.lua -H "Authorization: Bearer $KEY" URL
-- convert: every request a new single-sample generic-JSON submission (a new sample id each time,
-- so each one is converted and stored, never answered as a resubmission).
-- LOAD_RATE paces each thread to its share of the rate (clock_gettime through LuaJIT's ffi);
-- a thread that falls behind does not make the backlog up, so the achieved rate is reported.
-- done() prints one JSON line: requests, seconds, errors, latency percentiles (ms).

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } load_timespec;
int clock_gettime(int clk_id, load_timespec *tp);
]]
local ts = ffi.new("load_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local mode = os.getenv("LOAD_MODE") or "get"
local rate = tonumber(os.getenv("LOAD_RATE") or "0")
local threads = tonumber(os.getenv("LOAD_THREADS") or "1")
local prefix = os.getenv("LOAD_PREFIX") or "LOAD"
local body = '{"sample_id": "%s-%d-%d", "calls": [{"label": "high-hyperdiploid", "score_type": '
  .. '"score", "probability": 0.8, "confidence": "high"}], "ploidy": {"chromosome_count": 55, '
  .. '"iscn": "55,XX,+4,+6,+10,+14,+17,+18,+21,+21,+X"}}'

local next_thread = 0
function setup(thread)
  next_thread = next_thread + 1
  thread:set("thread_id", next_thread)
end

local counter = 0
function request()
  if mode ~= "convert" then
    return wrk.format()
  end
  counter = counter + 1
  local headers = {["Content-Type"] = "application/json"}
  for name, value in pairs(wrk.headers) do  -- the -H headers (Authorization) too
    headers[name] = value
  end
  return wrk.format("POST", nil, headers, string.format(body, prefix, thread_id, counter))
end

local interval = rate > 0 and (1000 * threads / rate) or nil
local next_at = nil
function delay()
  if not interval then
    return 0
  end
  local t = now_ms()
  if next_at == nil or next_at < t then
    next_at = t
  end
  local wait = next_at - t
  next_at = next_at + interval
  return wait
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "non_2xx": %d, "socket_errors": %d, "p50_ms": %.2f, '
    .. '"p90_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f}\n',
    summary.requests, summary.duration / 1e6, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end
