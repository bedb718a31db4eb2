-- POST /api/token/ with {"username","password"}, cycling through the benchmark users
-- $BENCH_PREFIX0001 … $BENCH_PREFIX<$BENCH_USERS>, all with the password $BENCH_PASSWORD.
local lib = os.getenv("BENCH_LIB")
dofile(lib .. "/report.lua")

local reqs, k = {}, 0

function init(args)
   local nthreads = tonumber(os.getenv("BENCH_THREADS")) or 1
   local users = tonumber(os.getenv("BENCH_USERS"))
   local prefix, password = os.getenv("BENCH_PREFIX"), os.getenv("BENCH_PASSWORD")
   for i = 1, users do
      if (i - 1) % nthreads == (id or 0) or users < nthreads then
         local body = string.format('{"username":"%s%04d","password":"%s"}', prefix, i, password)
         table.insert(reqs, wrk.format("POST", "/api/token/",
                                       { ["Content-Type"] = "application/json" }, body))
      end
   end
end

function request()
   k = k % #reqs + 1
   return reqs[k]
end
