metric.counter("x")
function setup(run) metric.counter("x"):inc(1.5) metric.histogram("h", {a = "b"}) end
function request(user, req)
  metric.histogram("x"):observe(1)
end
function response(user, req, resp)
  metric.counter("y", {["a-b"] = 1}):inc()
end
function on_start(user)
  metric.counter("z", {u = user.id}):inc(-1)
end
function step(user) metric.histogram("h", {a = "b"}, {3, 2, 1}):observe(0) end
