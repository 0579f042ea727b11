-- Shared by the wrk scripts. BENCH_RATE (requests/s in total, 0 or unset = closed loop) paces each connection
-- (wrk -t N -c N: one connection per thread) on a schedule of Poisson arrivals, as pgbench -R paces each client; see
-- below for how its latency is counted.
local ffi = require("ffi")
ffi.cdef [[ typedef struct { long tv_sec; long tv_nsec; } bench_ts; int clock_gettime(int, bench_ts *); ]]
local ts = ffi.new("bench_ts")
local function now_us()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end
token = os.getenv("BENCH_TOKEN")
nonce = os.getenv("BENCH_NONCE") or "0"
local rate = tonumber(os.getenv("BENCH_RATE") or "0")
local threads, counter = {}, 0
tid, bad, lats, n_lat = 0, 0, {}, 0

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  math.randomseed(tid * 7919 + tonumber(nonce) % 100000)
end

-- Latency of a paced request: from its scheduled time if it left late because the previous response came late (the
-- server's stall counts against the server: no coordinated omission), else from when it left (wrk's millisecond
-- timer can fire early or late by up to a millisecond, which is the load generator's error, not the server's).
-- Each script's request() passes its request through stamp(): wrk builds a request when it sends it.
local scheduled, behind, sent = nil, false, nil
function stamp(req)
  sent = now_us()
  return req
end

if rate > 0 then
  local interval, next_at
  function delay()
    local now = now_us()
    if not next_at then
      interval = 1e6 * tonumber(os.getenv("BENCH_CONNS") or "1") / rate
      next_at = now + interval * (tid % 97) / 97
    end
    scheduled = next_at
    -- Poisson arrivals, as pgbench -R schedules them: exponential gaps with the mean interval.
    next_at = next_at - math.log(1 - math.random()) * interval
    local wait = scheduled - now
    behind = wait <= 0
    if behind then return 0 end
    return math.floor(wait / 1000)
  end
end

function response(status, headers, body)
  if status >= 300 then bad = bad + 1 end
  if scheduled then
    n_lat = n_lat + 1
    lats[n_lat] = now_us() - ((behind or not sent) and scheduled or sent)
  end
end

function next_counter()
  counter = counter + 1
  return counter
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  local status_bad = 0
  local all = {}
  for _, t in ipairs(threads) do
    status_bad = status_bad + (t:get("bad") or 0)
    for _, v in ipairs(t:get("lats") or {}) do all[#all + 1] = v end
  end
  local rps = summary.requests / (summary.duration / 1e6)
  local p50, p99, p999
  if #all > 0 then
    table.sort(all)
    local q = function(p) return all[math.max(1, math.ceil(#all * p))] / 1000 end
    p50, p99, p999 = q(0.5), q(0.99), q(0.999)
  else
    p50, p99, p999 = latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000
  end
  io.write(string.format("WRK rps=%.1f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f requests=%d bad_status=%d socket_errors=%d\n",
    rps, p50, p99, p999, summary.requests, status_bad, errors))
end
