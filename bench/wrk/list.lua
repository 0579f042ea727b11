-- GET /v1/orders?customer_id= of one of the BENCH_CUSTOMERS (10,000) loaded customers (10 orders each, default page of 20).
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
local customers = tonumber(os.getenv("BENCH_CUSTOMERS") or "10000")
function request()
  return stamp(wrk.format("GET", "/v1/orders?customer_id=cust-" .. math.random(0, customers - 1),
    { ["Authorization"] = "Bearer " .. token }))
end
