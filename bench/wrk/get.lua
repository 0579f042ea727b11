-- GET /v1/orders/{id} of one of the 100,000 loaded orders.
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
function request()
  return stamp(wrk.format("GET", string.format("/v1/orders/00000000-0000-7000-8000-%012x", math.random(1, 100000)),
    { ["Authorization"] = "Bearer " .. token }))
end
