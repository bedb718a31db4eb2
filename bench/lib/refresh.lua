-- POST /api/token/refresh/ with rotation on, each request presenting a distinct refresh token
-- that has never been presented before.
--
-- Each wrk thread starts with its share of the pre-minted refresh tokens in $BENCH_TOKENS (one
-- login each, so one session each) and keeps them in a queue. A request takes the oldest token
-- from the queue; its response's rotated "refresh" token joins the back of the queue. wrk sends
-- a connection's next request only after response() has run for its previous one, so the queue
-- never runs dry while responses succeed, and no token is ever presented twice (which would
-- trigger reuse detection). This keeps every request a real rotation of a live session without
-- minting rate × duration sessions by slow logins beforehand.
local lib = os.getenv("BENCH_LIB")
dofile(lib .. "/report.lua")
dofile(lib .. "/lines.lua")

local queue, head, tail = {}, 1, 0
non2xx = 0
local starved = 0

local function push(t)
   tail = tail + 1
   queue[tail] = t
end

function init(args)
   local nthreads = tonumber(os.getenv("BENCH_THREADS")) or 1
   for _, t in ipairs(read_lines(os.getenv("BENCH_TOKENS"), id or 0, nthreads)) do push(t) end
end

function request()
   local t
   if head <= tail then
      t = queue[head]
      queue[head] = nil
      head = head + 1
   else
      -- Only after failed responses: send an invalid token, which the server answers 401 and
      -- the run reports as errors.
      starved = starved + 1
      t = "starved"
   end
   return wrk.format("POST", "/api/token/refresh/", { ["Content-Type"] = "application/json" },
                     '{"refresh":"' .. t .. '"}')
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
      return
   end
   local t = string.match(body, '"refresh"%s*:%s*"([^"]+)"')
   if t then push(t) else non2xx = non2xx + 1 end
end
