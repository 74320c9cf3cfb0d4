-- vote.lua: replays a file of votes as POST /api/v1/campaigns/<id>/votes, one line per request.
--
--   wrk -t T -c C -d 20s -s loadtests/wrk/vote.lua http://127.0.0.1:PORT -- <data file> <campaign id> <T>
--
-- Data file: "<voter token> <candidate id> [<client address>]" per line (the address goes out as
-- X-Forwarded-For, as a load balancer in front would send it), in the order the bench planned them (new votes and
-- repeats). Thread i of T takes lines i, i+T, i+2T, ... and formats every request once, in init(), so the
-- hot path is an array lookup. A thread that runs out of lines starts again from its first (counted as
-- "wrapped": those repeats answer 409, so the bench sizes the file to avoid it).
--
-- response() counts statuses per thread; done() sums them over the threads (thread:get copies each
-- thread's table into the main state) and prints one line "BENCH_JSON {...}" with the latency
-- percentiles (microseconds), status counts and socket errors.

local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local data, campaign, nthreads = args[1], args[2], tonumber(args[3] or "1")
  local path = "/api/v1/campaigns/" .. campaign .. "/votes"
  local mine = (id or 1) - 1
  reqs = {}
  local n = 0
  for line in io.lines(data) do
    if n % nthreads == mine then
      local token, candidate, address = line:match("^(%S+)%s+(%S+)%s*(%S*)")
      if token then
        local headers = {
          ["Host"] = wrk.host .. ":" .. wrk.port,
          ["Authorization"] = "Bearer " .. token,
          ["Content-Type"] = "application/json",
          -- citizens vote from a phone's browser; a script's User-Agent (wrk sends none) would count as automated
          -- and a minute of it turns the national attack mode on (voting_service/services/attack.py)
          ["User-Agent"] = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
        }
        if address ~= "" then
          headers["X-Forwarded-For"] = address
        end
        reqs[#reqs + 1] = wrk.format("POST", path, headers, '{"candidate_id":"' .. candidate .. '"}')
      end
    end
    n = n + 1
  end
  nreq = #reqs
  if nreq == 0 then
    error("vote.lua: no requests for thread " .. mine .. " in " .. tostring(data))
  end
  pos = 0
  wrapped = 0
  counts = {}
end

function request()
  pos = pos + 1
  if pos > nreq then
    pos = 1
    wrapped = wrapped + 1
  end
  return reqs[pos]
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local statuses, wraps, sent = {}, 0, 0
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("counts") or {}) do
      statuses[status] = (statuses[status] or 0) + n
    end
    wraps = wraps + (t:get("wrapped") or 0)
    sent = sent + (t:get("wrapped") or 0) * (t:get("nreq") or 0) + (t:get("pos") or 0)
  end
  local parts = {}
  for status, n in pairs(statuses) do
    parts[#parts + 1] = string.format('"%d":%d', status, n)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"duration_us":%d,"requests":%d,"bytes":%d,"sent":%d,"wrapped":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d},"statuses":{%s},' ..
    '"latency_us":{"min":%d,"mean":%.1f,"stdev":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
    summary.duration, summary.requests, summary.bytes, sent, wraps,
    e.connect, e.read, e.write, e.timeout, e.status, table.concat(parts, ","),
    latency.min, latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end
