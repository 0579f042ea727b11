-- GET of one path (BENCH_PATH) with the bearer token: the console's pages against the API's JSON (bench/console.py).
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
local path = os.getenv("BENCH_PATH")
function request()
  return stamp(wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token }))
end
