-- wrk script for the test-bed checks.
-- Env: BNK_BODIES  = comma-separated files, cycled as POST bodies (none: GET)
--      BNK_CTYPE   = Content-Type of the bodies
--      BNK_CLOSE   = 1 to send "Connection: close" (connection churn)
-- done() prints one line "BNK_JSON {...}" with latency percentiles (us),
-- status counts and the Server-Timing sums (ms) seen in responses: per metric
-- name as sent ("phases"), and summed into queue/preprocess/model/postprocess
-- by checks/lib.py with the default name mapping of the bottleneck tool.
local bodies = {}
local threads = {}
local counter = 0

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local d = f:read("*a")
  f:close()
  return d
end

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  local list = os.getenv("BNK_BODIES") or ""
  local ctype = os.getenv("BNK_CTYPE") or "application/octet-stream"
  local close = os.getenv("BNK_CLOSE") == "1"
  local path = wrk.path
  for p in string.gmatch(list, "[^,]+") do
    local hdr = { ["Content-Type"] = ctype }
    if close then hdr["Connection"] = "close" end
    table.insert(bodies, wrk.format("POST", path, hdr, read_file(p)))
  end
  if #bodies == 0 then
    local hdr = {}
    if close then hdr["Connection"] = "close" end
    table.insert(bodies, wrk.format("GET", path, hdr))
  end
  counter = id or 0
  st_n = 0; st_phases = {}
  s2xx = 0; s4xx = 0; s5xx = 0
end

function request()
  counter = counter + 1
  return bodies[(counter % #bodies) + 1]
end

function response(status, headers, body)
  if status >= 500 then s5xx = s5xx + 1
  elseif status >= 400 then s4xx = s4xx + 1
  else s2xx = s2xx + 1 end
  local st = headers["server-timing"] or headers["Server-Timing"]
  if st then
    st_n = st_n + 1
    for entry in string.gmatch(st, "[^,]+") do
      local name = string.match(entry, "^%s*([%w_%.%-]+)")
      local dur = string.match(entry, ";%s*dur=([%d%.]+)")
      if name and dur then
        st_phases[name] = (st_phases[name] or 0) + tonumber(dur)
      end
    end
  end
end

function done(summary, latency, requests)
  local t = { n = 0, s2xx = 0, s4xx = 0, s5xx = 0 }
  local phases = {}
  for _, th in ipairs(threads) do
    t.n = t.n + (th:get("st_n") or 0)
    for name, v in pairs(th:get("st_phases") or {}) do
      phases[name] = (phases[name] or 0) + v
    end
    t.s2xx = t.s2xx + (th:get("s2xx") or 0)
    t.s4xx = t.s4xx + (th:get("s4xx") or 0)
    t.s5xx = t.s5xx + (th:get("s5xx") or 0)
  end
  local items = {}
  for name, v in pairs(phases) do
    table.insert(items, string.format('"%s":%.3f', name, v))
  end
  local e = summary.errors
  io.write(string.format(
    'BNK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"status":{"2xx":%d,"4xx":%d,"5xx":%d},' ..
    '"latency_us":{"min":%d,"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"max":%d},' ..
    '"server_timing":{"n":%d,"phases":{%s}}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    t.s2xx, t.s4xx, t.s5xx,
    latency.min, latency.mean, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max,
    t.n, table.concat(items, ",")))
end
