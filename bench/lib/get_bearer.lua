-- GET $BENCH_PATH with `Authorization: Bearer <access token>`, cycling through the access tokens
-- in $BENCH_TOKENS (one per user), so that requests spread over every benchmark user.
local lib = os.getenv("BENCH_LIB")
dofile(lib .. "/report.lua")
dofile(lib .. "/lines.lua")

local reqs, k = {}, 0

function init(args)
   local nthreads = tonumber(os.getenv("BENCH_THREADS"))
   local tokens = read_lines(os.getenv("BENCH_TOKENS"), id or 0, nthreads or 1)
   if #tokens == 0 then tokens = read_lines(os.getenv("BENCH_TOKENS"), 0, 1) end
   for _, t in ipairs(tokens) do
      -- Pre-format every request once: the load generator's own cost per request stays minimal.
      table.insert(reqs, wrk.format("GET", os.getenv("BENCH_PATH"),
                                    { ["Authorization"] = "Bearer " .. t }))
   end
end

function request()
   k = k % #reqs + 1
   return reqs[k]
end
