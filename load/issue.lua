-- wrk script: ticket issue at saturation.
--
-- Every request is POST /api/v1/branches/{branch}/tickets {"service": ...} with a kiosk's
-- token. The request is built once (no per-request Lua), so wrk spends its CPU on sending.
--
-- Environment (set by run.sh):
--   CEM_BRANCH   the branch id
--   CEM_SERVICE  the service id
--   CEM_KIOSK    a kiosk device token of the branch
--
-- done() prints one machine-readable line, `RESULT key=value ...`, that run.sh reads.

local branch = assert(os.getenv("CEM_BRANCH"), "CEM_BRANCH is not set")
local service = assert(os.getenv("CEM_SERVICE"), "CEM_SERVICE is not set")
local kiosk = assert(os.getenv("CEM_KIOSK"), "CEM_KIOSK is not set")

wrk.method = "POST"
wrk.path = "/api/v1/branches/" .. branch .. "/tickets"
wrk.body = '{"service":"' .. service .. '"}'
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = "Bearer " .. kiosk

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "RESULT requests=%d secs=%.3f rps=%.1f p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d mean_us=%.0f non2xx=%d connect_err=%d read_err=%d write_err=%d timeouts=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean,
    e.status, e.connect, e.read, e.write, e.timeout))
end
