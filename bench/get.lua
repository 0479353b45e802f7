-- wrk script: GET PREFIX .. token .. SUFFIX, cycling through the tokens of a file.
--   wrk -t2 -c16 -d10s -s bench/get.lua URL -- tokens.txt /s/ ""
local tokens = {}
local i = 0
local prefix, suffix
function init(args)
  for line in io.lines(args[1]) do tokens[#tokens + 1] = line end
  prefix = args[2]
  suffix = args[3] or ""
  i = math.random(#tokens)
end
function request()
  i = i % #tokens + 1
  return wrk.format("GET", prefix .. tokens[i] .. suffix)
end
local bad = 0
function response(status)
  if status ~= 200 then bad = bad + 1 end
end
function done(summary, latency)
  io.write(string.format("%.0f requests/s, p50 %.2f ms, p99 %.2f ms, non-200 %d, errors %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
