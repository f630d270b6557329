local function f(n) return f(n + 1) + 1 end
function request(user, req) return f(1) end
function response(user, req, resp)
  local s = ""
  for i = 1, 50 do s = s .. resp.body end
  return #s > 0
end
function step(user)
  local co = coroutine.create(function() coroutine.yield(1) end)
  coroutine.resume(co)
  coroutine.yield("not through user:request")
end
