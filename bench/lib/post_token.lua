-- POST $BENCH_PATH with the JSON body {"<$BENCH_FIELD>": "<token>"}, cycling through the tokens
-- in $BENCH_TOKENS. Used for /api/token/verify/ (field "token").
local lib = os.getenv("BENCH_LIB")
dofile(lib .. "/report.lua")
dofile(lib .. "/lines.lua")

local reqs, k = {}, 0

function init(args)
   local nthreads = tonumber(os.getenv("BENCH_THREADS"))
   local field = os.getenv("BENCH_FIELD")
   local tokens = read_lines(os.getenv("BENCH_TOKENS"), id or 0, nthreads or 1)
   if #tokens == 0 then tokens = read_lines(os.getenv("BENCH_TOKENS"), 0, 1) end
   for _, t in ipairs(tokens) do
      table.insert(reqs, wrk.format("POST", os.getenv("BENCH_PATH"),
                                    { ["Content-Type"] = "application/json" },
                                    '{"' .. field .. '":"' .. t .. '"}'))
   end
end

function request()
   k = k % #reqs + 1
   return reqs[k]
end
