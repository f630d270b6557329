-- ci_summary.lua: done() writes the run's figures as JSON for a CI job
-- (SUMMARY_FILE, default summary.json) and fails the job with exit status 4
-- when p95 is above P95_BUDGET_MS (default 500); otherwise the exit status is
-- what aiotest-replay decided (thresholds, failed requests).
local path = os.getenv("SUMMARY_FILE") or "summary.json"
local budget = tonumber(os.getenv("P95_BUDGET_MS") or "500")

local function str(s)
  return '"' .. s:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

function done(s)
  local f = assert(io.open(path, "w"))
  local rows = {}
  for _, e in ipairs(s.entries) do
    rows[#rows + 1] = string.format('{"method": %s, "name": %s, "count": %d, "failures": %d, "p95_ms": %.3f}',
                                    str(e.method), str(e.name), e.count, e.failures, e.p95_ms or 0)
  end
  f:write(string.format('{"requests": %d, "failures": %d, "rps": %.2f, "p95_ms": %.3f, '
                        .. '"budget_ms": %g, "passed": %s, "entries": [%s]}\n',
                        s.requests, s.failures, s.rps, s.p95_ms or 0, budget,
                        tostring((s.p95_ms or 0) <= budget), table.concat(rows, ", ")))
  f:close()
  if (s.p95_ms or 0) > budget then
    io.stderr:write(string.format("p95 %.1f ms is over the budget of %g ms\n", s.p95_ms, budget))
    return 4
  end
  return s.exit_code
end
