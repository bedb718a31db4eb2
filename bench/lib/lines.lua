-- Reads $BENCH_TOKENS (one value per line) into a list; thread `id` of `n` takes every n-th line
-- so that no two wrk threads share a value.
function read_lines(path, id, n)
   local out, i = {}, 0
   for line in io.lines(path) do
      if line ~= "" then
         if i % n == id then table.insert(out, line) end
         i = i + 1
      end
   end
   return out
end
