-- wrk script: each request answers one not-yet-answered token (read from the file given as the
-- first script argument), so every answer is a first response, as at a busy desk.
--   wrk -t2 -c64 -d20s --latency -s bench/answer.lua URL -- tokens.txt 2 [FIRST] [MIX]
-- FIRST (default 0) numbers the residents of this file from FIRST + 1, so that successive runs
-- on one database never reuse a resident (address, phone).
-- MIX (default "mixed") is the ratings sent:
--   mixed      1 % top scores (5), the rest 4, 3, 2, 1: the burst check runs but rarely fires;
--   satisfied  70 % "Rất hài lòng" (5), the rest 4 and 3: a satisfied commune at a busy hour.
--              bench/answers.sh gives this mix the tokens of three officers, so every answer
--              meets the burst check with a full window (issue 15).
-- Every request comes from its own resident: a distinct X-Forwarded-For address (the service
-- runs with TRUSTED_PROXIES=127.0.0.1, as behind a reverse proxy) and phone, so neither the
-- per-address rate limit nor the same-device check sees one client.
local counter = 0
local threads = {}
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  threads[#threads + 1] = thread
end

local tokens = {}
local next_index, step, first, satisfied
local levels = { 4, 3, 4, 2, 4, 3, 4, 1, 4, 3 }
local satisfied_levels = { 5, 5, 5, 4, 5, 5, 3, 5, 5, 4 }
created = 0
other = 0
exhausted = 0

function init(args)
  for line in io.lines(args[1]) do tokens[#tokens + 1] = line end
  step = tonumber(args[2] or "1")
  first = tonumber(args[3] or "0")
  satisfied = (args[4] == "satisfied")
  next_index = id + 1
end

function request()
  local token = tokens[next_index]
  local i = first + next_index
  next_index = next_index + step
  if token == nil then
    exhausted = 1
    wrk.thread:stop()
    return wrk.format("GET", "/healthz")
  end
  local overall
  if satisfied then
    overall = satisfied_levels[i % 10 + 1]
  else
    overall = (i % 100 == 0) and 5 or levels[i % 10 + 1]
  end
  local body = string.format(
    '{"answers": {"CASE.OVERALL": %d, "TT01.I1": 2, "TT01.I3": 1, "TT01.I4": 1, "TT01.I7": 1}}', overall)
  local headers = {
    ["Content-Type"] = "application/json",
    ["X-Forwarded-For"] = string.format("10.%d.%d.%d", math.floor(i / 65536) % 256, math.floor(i / 256) % 256, i % 256),
    ["User-Agent"] = "Mozilla/5.0 (Linux; Android 14; bench " .. (i % 997) .. ")",
  }
  return wrk.format("POST", "/api/v1/responses/" .. token, headers, body)
end

function response(status, headers, body)
  if status == 201 then created = created + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local answered, refused, out = 0, 0, 0
  for _, t in ipairs(threads) do
    answered = answered + t:get("created")
    refused = refused + t:get("other")
    out = out + t:get("exhausted")
  end
  local seconds = summary.duration / 1e6
  io.write(string.format("answers (201) %d: %.0f/s\n", answered, answered / seconds))
  io.write(string.format("requests %d in %.2f s: %.0f/s\n", summary.requests, seconds, summary.requests / seconds))
  io.write(string.format("latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
  io.write(string.format("not 201 %d, socket errors %d, tokens ran out: %s\n", refused,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    out > 0 and "yes (raise N)" or "no"))
end
