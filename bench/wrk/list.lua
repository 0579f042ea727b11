-- GET /v1/orders?customer_id= of one of the 10,000 loaded customers (10 orders each, default page of 20).
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
function request()
  return stamp(wrk.format("GET", "/v1/orders?customer_id=cust-" .. math.random(0, 9999),
    { ["Authorization"] = "Bearer " .. token }))
end
