-- wrk script for GETs in tools/bench/ingest.sh and scale.sh: the bearer token from the
-- environment (SWITCHBOARD_BENCH_TOKEN, none when unset) and one machine-readable line:
--   result requests=N seconds=S rate=R p50_ms=A p99_ms=B non2xx=E errors=X
local token = os.getenv("SWITCHBOARD_BENCH_TOKEN")
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  local seconds = summary.duration / 1e6
  io.write(string.format("result requests=%d seconds=%.3f rate=%.1f p50_ms=%.3f p99_ms=%.3f non2xx=%d errors=%d\n",
    summary.requests, seconds, (summary.requests - summary.errors.status) / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status, errors))
end
