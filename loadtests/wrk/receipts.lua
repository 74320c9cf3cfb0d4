-- receipts.lua: replays a file of receipts as GET /api/v1/receipts/<receipt>, one receipt per line.
--
--   wrk -t T -c C -d 20s -s loadtests/wrk/receipts.lua http://127.0.0.1:PORT -- <data file> <unused> <T>
--
-- Everything but the requests is vote.lua's (loaded from beside this file): thread i of T takes lines i, i+T, ...,
-- formatted once in init(); response() counts statuses; done() prints the one "BENCH_JSON {...}" line.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "vote.lua")

function init(args)
  local data, nthreads = args[1], tonumber(args[3] or "1")
  local mine = (id or 1) - 1
  reqs = {}
  local n = 0
  for line in io.lines(data) do
    local receipt = line:match("^(%S+)")
    if receipt and n % nthreads == mine then
      reqs[#reqs + 1] = wrk.format("GET", "/api/v1/receipts/" .. receipt, {["Host"] = wrk.host .. ":" .. wrk.port})
    end
    n = n + 1
  end
  nreq = #reqs
  if nreq == 0 then
    error("receipts.lua: no receipts for thread " .. mine .. " in " .. tostring(data))
  end
  pos = 0
  wrapped = 0
  counts = {}
end
