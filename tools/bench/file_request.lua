-- wrk script for tools/bench/ingest.sh and scale.sh: POST /v1/requests with a troubleshooting
-- request whose title is unique per request (thread number and counter), the bearer token from
-- the environment (SWITCHBOARD_BENCH_TOKEN), and a tally of answers other than 201.
-- done() prints one machine-readable line:
--   result requests=N seconds=S rate=R p50_ms=A p99_ms=B non201=E errors=X
local token = os.getenv("SWITCHBOARD_BENCH_TOKEN") or ""
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  sent = 0
  non201 = 0
  headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }
end

function request()
  sent = sent + 1
  local body = '{"kind":"troubleshooting",' ..
    '"customer":{"id":"bench-customer","name":"Bench Customer","stage":"production","tier":"premium"},' ..
    '"title":"Bench troubleshooting ' .. id .. '-' .. sent .. '",' ..
    '"body":"Search results are missing repositories since the upgrade to 5.2."}'
  return wrk.format("POST", "/v1/requests", headers, body)
end

function response(status, headers, body)
  if status ~= 201 then
    non201 = non201 + 1
    if non201 == 1 then io.stderr:write("first non-201 answer: " .. status .. " " .. body .. "\n") end
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + (thread:get("non201") or 0) end
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.status + summary.errors.timeout
  local seconds = summary.duration / 1e6
  io.write(string.format("result requests=%d seconds=%.3f rate=%.1f p50_ms=%.3f p99_ms=%.3f non201=%d errors=%d\n",
    summary.requests, seconds, (summary.requests - bad) / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, bad, errors))
end
