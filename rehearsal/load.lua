-- wrk script of the rehearsal: a steady, paced mix of reads and order placements through the load balancer, with
-- every response's status checked by the client itself.
--   wrk -t2 -c6 -d15m --timeout 5s -s rehearsal/load.lua http://127.0.0.1:18080
-- Environment: REH_TOKEN (bearer, staff scopes), REH_ORDER_IDS (comma-separated ids to read), REH_SKUS
-- (comma-separated SKUs with stock), REH_DELAY_MS (pause between a connection's requests; paces the load).
-- Each thread counts, per wall-clock second, requests and non-2xx responses, and every status code; done() prints
--   B <epoch second> <requests> <non-2xx>      C <status> <count>
--   S <requests> <connect> <read> <write> <timeout> <p50 us> <p99 us> <max us> <seconds>
-- (flat tables only: wrk copies a thread's globals to the main state one level deep).

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

local function split(s)
  local out = {}
  for item in string.gmatch(s or "", "[^,]+") do table.insert(out, item) end
  return out
end

function init(args)
  buckets, codes = {}, {}
  token = os.getenv("REH_TOKEN") or error("REH_TOKEN is not set")
  orders = split(os.getenv("REH_ORDER_IDS"))
  skus = split(os.getenv("REH_SKUS"))
  pause = tonumber(os.getenv("REH_DELAY_MS") or "25")
  if #orders == 0 or #skus == 0 then error("REH_ORDER_IDS and REH_SKUS are required") end
  math.randomseed(os.time() * 1000 + id)
end

local function order_body(sku)
  return '{"currency":"KWD","ship_to":{"name":"Rehearsal","line1":"Block 1","city":"Salmiya","country":"KW",'
    .. '"phone":"+96550000000"},"lines":[{"sku":"' .. sku .. '","quantity":1}],"payment_method":"cod"}'
end

function request()
  counter = counter + 1
  local auth = "Bearer " .. token
  local pick = counter % 20
  if pick < 10 then
    return wrk.format("GET", "/v1/orders/" .. orders[math.random(#orders)], { Authorization = auth })
  elseif pick < 13 then
    return wrk.format("GET", "/v1/orders?limit=5", { Authorization = auth })
  elseif pick < 16 then
    return wrk.format("GET", "/v1/products/" .. skus[math.random(#skus)], { Authorization = auth })
  end
  local key = string.format("reh-%d-%d-%d-%d", id, os.time(), counter, math.random(1e9))
  return wrk.format("POST", "/v1/orders", {
    Authorization = auth, ["Content-Type"] = "application/json", ["Idempotency-Key"] = key,
  }, order_body(skus[math.random(#skus)]))
end

function delay()
  return pause
end

function response(status, headers, body)
  local second = os.time()
  buckets["r" .. second] = (buckets["r" .. second] or 0) + 1
  if status < 200 or status > 299 then
    buckets["f" .. second] = (buckets["f" .. second] or 0) + 1
  end
  codes["c" .. status] = (codes["c" .. status] or 0) + 1
end

function done(summary, latency, requests)
  local per_second, per_code = {}, {}
  for _, thread in ipairs(threads) do
    for key, n in pairs(thread:get("buckets")) do
      local kind, second = key:sub(1, 1), key:sub(2)
      per_second[second] = per_second[second] or { 0, 0 }
      per_second[second][kind == "r" and 1 or 2] = per_second[second][kind == "r" and 1 or 2] + n
    end
    for key, n in pairs(thread:get("codes")) do
      per_code[key:sub(2)] = (per_code[key:sub(2)] or 0) + n
    end
  end
  for second, v in pairs(per_second) do io.write(string.format("B %s %d %d\n", second, v[1], v[2])) end
  for code, n in pairs(per_code) do io.write(string.format("C %s %d\n", code, n)) end
  local e = summary.errors
  io.write(string.format("S %d %d %d %d %d %d %d %d %.1f\n", summary.requests, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, summary.duration / 1e6))
end
