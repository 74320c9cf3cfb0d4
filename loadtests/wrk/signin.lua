-- signin.lua: the sign-in path, a code request then a code check per line, against the voting service or
-- the ceiling app.
--
--   wrk -t T -c C -d 20s -s loadtests/wrk/signin.lua http://127.0.0.1:PORT -- <data file> <unused> <T>
--
-- Data file: "<phone> <client address>" per line (the address goes out as X-Forwarded-For, as a load balancer in
-- front would send it). Each line makes two requests, in this order: POST /api/v1/auth/otp {phone} (202) and
-- POST /api/v1/auth/otp/verify {phone, code: "000000"} (wrk cannot read the SMS: the check runs the same limits and
-- script as a right one and answers 401 invalid_code, without minting a token). Requests are formatted once, in
-- init(). Everything but the requests is vote.lua's (loaded from beside this file): the threads' share of the lines,
-- request(), the status counts and the one "BENCH_JSON {...}" line of done().

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "vote.lua")

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
