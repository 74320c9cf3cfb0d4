-- signin.lua: the sign-in path, a code request then a code check per line, against the voting service or
-- the ceiling app.
--
--   wrk -t T -c C -d 20s -s loadtests/wrk/signin.lua http://127.0.0.1:PORT -- <data file> <unused> <T>
--
-- Data file: "<phone> <client address>" per line (the address goes out as X-Forwarded-For, as a load balancer in
-- front would send it). Each line makes two requests, in this order: POST /api/v1/auth/otp {phone} (202) and
-- POST /api/v1/auth/otp/verify {phone, code: "000000"} (wrk cannot read the SMS: the check runs the same limits and
-- script as a right one and answers 401 invalid_code, without minting a token). Requests are formatted once, in
-- init(); statuses are counted and printed as vote.lua does ("BENCH_JSON {...}").

local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local data, nthreads = args[1], tonumber(args[3] or "1")
  local mine = (id or 1) - 1
  reqs = {}
  local n = 0
  for line in io.lines(data) do
    if n % nthreads == mine then
      local phone, address = line:match("^(%S+)%s*(%S*)")
      if phone then
        local headers = {["Host"] = wrk.host .. ":" .. wrk.port, ["Content-Type"] = "application/json"}
        if address ~= "" then
          headers["X-Forwarded-For"] = address
        end
        reqs[#reqs + 1] = wrk.format("POST", "/api/v1/auth/otp", headers, '{"phone":"' .. phone .. '"}')
        reqs[#reqs + 1] = wrk.format("POST", "/api/v1/auth/otp/verify", headers,
                                     '{"phone":"' .. phone .. '","code":"000000"}')
      end
    end
    n = n + 1
  end
  nreq = #reqs
  if nreq == 0 then
    error("signin.lua: no requests for thread " .. mine .. " in " .. tostring(data))
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
