local n = 0
local c = metric.counter("calls", {kind = "req"})
local h = metric.histogram("size", nil, {1, 10, 100})
function setup(run) n = run.thread + run.threads end
function on_start(user) user.n = 0 user.vars.token = "t" .. user.id end
function request(user, req)
  user.n = user.n + 1
  c:inc()
  req.headers["X-N"] = tostring(user.n)
  req.headers["X-A"] = nil
  if req.body then req.body = req.body .. "!" end
  req.url = req.url .. "&n=" .. user.n
  req.method = "PUT"
end
function response(user, req, resp)
  local d, e = resp:json()
  h:observe(#resp.body)
  metric.counter("status", {code = resp.status, name = req.name}):inc(2)
  if resp:header("content-type") ~= "application/json" then return false, "type" end
  if d and d.id ~= 123456 then return false, "id != 123456" end
  for k, v in pairs(resp.headers) do user.last = k .. v end
  return true
end
function on_stop(user) user.vars.token = nil end
function done(s) return s.requests > 0 and 3 or 4 end
