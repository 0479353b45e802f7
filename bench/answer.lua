-- wrk script: each request answers one not-yet-answered token (read from the file given as the
-- first script argument), so every answer is a first response, as at a busy desk.
-- wrk -t2 -c64 -d20s --latency -s bench/answer.lua URL -- tokens.txt 2
local counter = 0
local threads = {}
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  threads[#threads + 1] = thread
end

local tokens = {}
local next_index, step
local body = '{"answers": {"CASE.OVERALL": 5, "TT01.I1": 2, "TT01.I3": 1, "TT01.I4": 1, "TT01.I7": 1}}'
local headers = { ["Content-Type"] = "application/json" }
created = 0

function init(args)
  for line in io.lines(args[1]) do tokens[#tokens + 1] = line end
  step = tonumber(args[2] or "1")
  next_index = id + 1
end

function request()
  local token = tokens[next_index]
  next_index = next_index + step
  if token == nil then
    return wrk.format("GET", "/healthz")
  end
  return wrk.format("POST", "/api/v1/responses/" .. token, headers, body)
end

function response(status, headers, body)
  if status == 201 then created = created + 1 end
end

function done(summary, latency, requests)
  local answered = 0
  for _, t in ipairs(threads) do answered = answered + t:get("created") end
  io.write(string.format("answers (201) %d: %.0f/s\n", answered, answered / (summary.duration / 1e6)))
  io.write(string.format("requests %d in %.2f s: %.0f/s\n", summary.requests, summary.duration / 1e6,
    summary.requests / (summary.duration / 1e6)))
  io.write(string.format("latency p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
  io.write(string.format("non-2xx %d, socket errors %d\n", summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
