-- Script metrics (metric.counter / metric.histogram): a counter made once at
-- load, one per (name, status) made in the hook, a histogram of body sizes
-- with its own bounds, a counter per user id to hit the bound on label sets,
-- and one counted in setup() by every Lua state (workers and the main one).
local hits = metric.counter("hits")
function setup(run)
  metric.counter("setups"):inc()
end
function done(s)
  local path = os.getenv("LUA_METRICS_DONE")
  if not path then return end
  local f = assert(io.open(path, "w"))
  for _, m in ipairs(s.metrics) do
    if m.name == "hits" then f:write("hits ", m.series[1].value, "\n") end
    if m.name == "by_user" then f:write("refused ", m.refused, "\n") end
  end
  f:close()
end
function response(user, req, resp)
  hits:inc(2)
  metric.counter("responses", {name = req.name, status = resp.status}):inc()
  metric.histogram("body_bytes", {}, {10, 100, 1000}):observe(#resp.body)
  metric.counter("by_user", {user = user.id}):inc()
end
