-- page.lua: one page fetched over and over as an anonymous phone browser fetches it (no cookie).
--
--   wrk -t T -c C -d 20s -s loadtests/wrk/page.lua http://127.0.0.1:PORT -- <path>
--
-- The request (the headers Chrome on Android sends for a navigation: Accept, Accept-Encoding with gzip,
-- Accept-Language, a mobile User-Agent) is formatted once, in init(). response() counts statuses and the
-- Content-Encoding of the answers; done() prints one line "BENCH_JSON {...}" in the shape vote.lua prints
-- (latency percentiles in microseconds, status counts, socket errors) plus "encodings".

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local path = args[1] or "/"
  req = wrk.format("GET", path, {
    ["Host"] = wrk.host .. ":" .. wrk.port,
    ["Accept"] = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
    ["Accept-Encoding"] = "gzip, deflate, br, zstd",
    ["Accept-Language"] = "kk-KZ,kk;q=0.9,ru;q=0.8",
    ["User-Agent"] = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
      .. "Chrome/131.0.0.0 Mobile Safari/537.36",
    ["Sec-Fetch-Mode"] = "navigate",
    ["Sec-Fetch-Site"] = "none",
    ["Sec-Fetch-Dest"] = "document",
  })
  counts = {}
  encodings = {}
end

function request()
  return req
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
  local enc = headers["Content-Encoding"] or headers["content-encoding"] or "identity"
  encodings[enc] = (encodings[enc] or 0) + 1
end

local function sum_into(total, part)
  for k, n in pairs(part or {}) do
    total[k] = (total[k] or 0) + n
  end
end

local function json_object(t, fmt)
  local parts = {}
  for k, n in pairs(t) do
    parts[#parts + 1] = string.format(fmt, k, n)
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
  local statuses, encs = {}, {}
  for _, t in ipairs(threads) do
    sum_into(statuses, t:get("counts"))
    sum_into(encs, t:get("encodings"))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"duration_us":%d,"requests":%d,"bytes":%d,"sent":%d,"wrapped":0,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d},"statuses":%s,"encodings":%s,' ..
    '"latency_us":{"min":%d,"mean":%.1f,"stdev":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
    summary.duration, summary.requests, summary.bytes, summary.requests,
    e.connect, e.read, e.write, e.timeout, e.status, json_object(statuses, '"%d":%d'),
    json_object(encs, '"%s":%d'),
    latency.min, latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end
