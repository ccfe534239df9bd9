-- One scenario of bench/run, driven by wrk: `wrk ... -s scenario.lua URL -- <requests file>`.
--
-- The requests file has one request per line, tab-separated: method, path, headers
-- ("Name: value" pairs joined by "|", or "-"), body (or "-"). Each connection walks the list
-- from its own starting point. "{n}" in a path or body becomes a number unique to the
-- request (the run, thread and counter), so a scenario can make every request a new cache key.
--
-- Counted from the answers, per thread, and printed by done() as one JSON line: errors (any
-- status other than the expected one, given by the environment's BENCH_EXPECT, 200 by
-- default), cache hits and misses (the X-Cache header), and SQL queries (X-Bench-Queries,
-- added by bench/instrument.py).

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

local function split(text, sep)
  local out = {}
  for piece in string.gmatch(text, "([^" .. sep .. "]+)") do table.insert(out, piece) end
  return out
end

function init(args)
  entries = {}
  errors, hits, misses, queries, answered = 0, 0, 0, 0, 0
  expected = tonumber(os.getenv("BENCH_EXPECT") or "200")
  -- A new value per wrk run (bench/perf.py): "{n}" never repeats a URL of an earlier run.
  nonce = os.getenv("BENCH_NONCE") or ""
  for line in io.lines(args[1]) do
    local fields = {}
    for field in string.gmatch(line, "([^\t]*)\t?") do table.insert(fields, field) end
    local headers = {}
    if fields[3] and fields[3] ~= "-" and fields[3] ~= "" then
      for _, pair in ipairs(split(fields[3], "|")) do
        local name, value = string.match(pair, "^([^:]+):%s*(.*)$")
        headers[name] = value
      end
    end
    local body = nil
    if fields[4] and fields[4] ~= "-" and fields[4] ~= "" then body = fields[4] end
    table.insert(entries, {method = fields[1], path = fields[2], headers = headers, body = body})
  end
  position = (id * 7919) % #entries
end

function request()
  position = position % #entries + 1
  counter = counter + 1
  local entry = entries[position]
  local unique = nonce .. id .. "x" .. counter
  local path = string.gsub(entry.path, "{n}", unique)
  local body = entry.body and string.gsub(entry.body, "{n}", unique) or nil
  return wrk.format(entry.method, path, entry.headers, body)
end

function response(status, headers, body)
  answered = answered + 1
  if status ~= expected then errors = errors + 1 end
  local cache = headers["X-Cache"]
  if cache == "HIT" then hits = hits + 1 elseif cache == "MISS" then misses = misses + 1 end
  local n = tonumber(headers["X-Bench-Queries"] or "")
  if n then queries = queries + n end
end

function done(summary, latency, requests)
  local e, h, m, q, a = 0, 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    e = e + thread:get("errors")
    h = h + thread:get("hits")
    m = m + thread:get("misses")
    q = q + thread:get("queries")
    a = a + thread:get("answered")
  end
  local socket = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    'BENCH-JSON {"requests": %d, "duration_us": %d, "errors": %d, "socket_errors": %d, ' ..
    '"hits": %d, "misses": %d, "queries": %d, "answered": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e, socket, h, m, q, a,
    latency:percentile(50), latency:percentile(99)))
end
