-- GET /v1/orders/{id} of one of the BENCH_ORDERS (100,000) loaded orders.
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
local orders = tonumber(os.getenv("BENCH_ORDERS") or "100000")
function request()
  return stamp(wrk.format("GET", string.format("/v1/orders/00000000-0000-7000-8000-%012x", math.random(1, orders)),
    { ["Authorization"] = "Bearer " .. token }))
end
