function step(user)
  local r = user:request{method = "POST", url = "/login", headers = {["Content-Type"] = "application/json"},
                         body = '{"u": 1}'}
  local t = r:json()
  user:sleep(0.01)
  local rs = user:parallel{{url = "/a"}, {url = "/b", headers = {X = "1"}}, {method = "DELETE", url = "/c"}}
  for i, x in ipairs(rs) do user.vars.token = tostring(x.status) .. (x.fail or "") end
  user:request{url = "http://other.example/x", body = "b"}
  error("step ends with an error")
end
