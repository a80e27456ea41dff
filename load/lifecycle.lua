-- wrk script: the full lifecycle of a ticket at saturation.
--
-- Run with as many threads as connections (wrk -t16 -c16): each thread then has one
-- connection and one counter, and loops
--     POST /branches/{b}/tickets                     (kiosk token)  -> 201
--     POST /branches/{b}/counters/{its}/call-next    (admin token)  -> 200
--     POST /branches/{b}/counters/{its}/start                       -> 200
--     POST /branches/{b}/counters/{its}/finish                      -> 200
-- A lifecycle is complete when `finish` answered 200. The ticket a counter calls is the
-- oldest waiting one, not necessarily the one its own connection issued. A step that fails
-- (any status but 2xx) is counted with its step, status and problem `code`, and the thread
-- starts over with a new ticket; but after a call-next refused with `counter_busy` (an earlier
-- step failed, e.g. timed out, yet was applied) or a failed start it goes on with start and
-- finish, so that its counter does not stay busy.
--
-- Environment (set by run.sh): CEM_BRANCH, CEM_SERVICE, CEM_KIOSK (kiosk token),
-- CEM_ADMIN (admin token), CEM_COUNTERS (counter ids, comma-separated; thread n gets the
-- n-th, cycling when there are more threads than counters).
--
-- done() prints `RESULT key=value ...` and one `FAIL step status code count` per kind of
-- failure, which run.sh reads.

local branch = assert(os.getenv("CEM_BRANCH"), "CEM_BRANCH is not set")
local service = assert(os.getenv("CEM_SERVICE"), "CEM_SERVICE is not set")
local kiosk = assert(os.getenv("CEM_KIOSK"), "CEM_KIOSK is not set")
local admin = assert(os.getenv("CEM_ADMIN"), "CEM_ADMIN is not set")

-- Main state: hand each thread its counter, keep the threads for done().
local counters = {}
for id in string.gmatch(assert(os.getenv("CEM_COUNTERS"), "CEM_COUNTERS is not set"), "[^,]+") do
  counters[#counters + 1] = id
end
local threads = {}

function setup(thread)
  local n = #threads + 1
  thread:set("counter", counters[((n - 1) % #counters) + 1])
  threads[n] = thread
end

-- Thread state.
local STEPS = { "issue", "call-next", "start", "finish" }
local step = 1
local requests_by_step
completed = 0   -- lifecycles whose finish answered 200 (read by done())
answered = 0    -- answers of any status (read by done())
failed = ""     -- "step status code=count;..." (a string: simple to copy between Lua states)
local fails = {}

function init(args)
  local base = "/api/v1/branches/" .. branch
  local at = base .. "/counters/" .. counter .. "/"
  local function staff() return { ["authorization"] = "Bearer " .. admin } end
  requests_by_step = {
    wrk.format("POST", base .. "/tickets",
      { ["authorization"] = "Bearer " .. kiosk, ["content-type"] = "application/json" },
      '{"service":"' .. service .. '"}'),
    wrk.format("POST", at .. "call-next", staff()),
    wrk.format("POST", at .. "start", staff()),
    wrk.format("POST", at .. "finish", staff()),
  }
end

function request()
  return requests_by_step[step]
end

local function note_failure(status, body)
  local code = string.match(body or "", '"code"%s*:%s*"([^"]*)"') or "-"
  if body == nil or body == "" then code = "(empty body)" end
  local key = STEPS[step] .. " " .. status .. " " .. code
  fails[key] = (fails[key] or 0) + 1
  local parts = {}
  for k, v in pairs(fails) do parts[#parts + 1] = k .. "=" .. v end
  failed = table.concat(parts, ";")
  return code
end

function response(status, headers, body)
  answered = answered + 1
  if status >= 200 and status < 300 then
    if step == 4 then
      if status == 200 then completed = completed + 1 end
      step = 1
    else
      step = step + 1
    end
  else
    local code = note_failure(status, body)
    if step == 2 and code == "counter_busy" then
      step = 3        -- the counter holds a ticket (an earlier step failed but was applied)
    elseif step == 3 then
      step = 4        -- a failed start: try to finish what the counter holds
    else
      step = 1        -- a failed issue, call-next or finish: start over
    end
  end
end

function done(summary, latency, requests)
  local total = 0
  local all = {}
  local each = {}
  local answers = {}
  for _, t in ipairs(threads) do
    total = total + (t:get("completed") or 0)
    each[#each + 1] = tostring(t:get("completed") or 0)
    answers[#answers + 1] = tostring(t:get("answered") or 0)
    for k, v in string.gmatch(t:get("failed") or "", "([^=;]+)=(%d+)") do
      all[k] = (all[k] or 0) + tonumber(v)
    end
  end
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "RESULT per_connection=%s answers_per_connection=%s lifecycles=%d lifecycles_per_s=%.1f requests=%d secs=%.3f rps=%.1f p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d mean_us=%.0f non2xx=%d connect_err=%d read_err=%d write_err=%d timeouts=%d\n",
    table.concat(each, ","), table.concat(answers, ","), total, total / secs, summary.requests, secs, summary.requests / secs,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean,
    e.status, e.connect, e.read, e.write, e.timeout))
  for k, v in pairs(all) do
    io.write("FAIL " .. k .. " " .. v .. "\n")
  end
end
