-- Shared by every wrk script of bench/run.sh: writes wrk's summary as JSON to $BENCH_OUT.
-- Latencies are microseconds. `errors.status` is wrk's count of responses with status > 399;
-- scripts that see every response (refresh.lua) also report their own non-2xx count.

threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

local function collect_non2xx()
   local n, seen = 0, false
   for _, t in ipairs(threads) do
      local v = t:get("non2xx")
      if v ~= nil then
         n, seen = n + v, true
      end
   end
   if seen then return n end
   return nil
end

function done(summary, latency, requests)
   local path = os.getenv("BENCH_OUT")
   if path == nil or path == "" then return end
   local f = assert(io.open(path, "w"))
   local e = summary.errors
   local non2xx = collect_non2xx()
   f:write(string.format(
      '{"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"non2xx":%s,' ..
      '"latency_us":{"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      non2xx == nil and "null" or tostring(non2xx),
      latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9), latency.max))
   f:close()
end
