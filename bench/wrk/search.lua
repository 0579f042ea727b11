-- GET /v1/orders?q= for things that exist: one line of BENCH_QUERIES (URL-encoded `q` values that bench/scale.py
-- drew from the loaded orders: name prefixes, phones in their several forms, or order-number fragments) at random.
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
local queries = {}
for line in io.lines(os.getenv("BENCH_QUERIES")) do queries[#queries + 1] = line end
function request()
  return stamp(wrk.format("GET", "/v1/orders?q=" .. queries[math.random(1, #queries)],
    { ["Authorization"] = "Bearer " .. token }))
end
