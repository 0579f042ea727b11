-- POST /v1/orders, 3 lines (one SKU from each third of the catalog), a unique Idempotency-Key per request.
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
local tmpl = '{"customer_id":"new-%d","currency":"KWD","ship_to":{"name":"Ali","line1":"Block 2","city":"Kuwait City",'
  .. '"country":"KW","phone":"+96551111111"},"lines":[{"sku":"%d","quantity":1},{"sku":"%d","quantity":1},'
  .. '{"sku":"%d","quantity":1}],"payment_method":"card"}'
function request()
  local body = string.format(tmpl, math.random(0, 9999), math.random(1000, 1332), math.random(1333, 1665),
    math.random(1666, 1999))
  return stamp(wrk.format("POST", "/v1/orders", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = string.format("w%s-%d-%d", nonce, tid, next_counter()),
  }, body))
end
