-- A custom step: log in, sleep, read an item named by the login's answer;
-- the response table of user:request feeds the next request.
local log
function setup(run) log = assert(io.open(os.getenv("LUA_TEST_LOG"), "a")) log:setvbuf("line") end
function login_and_view(user)
  local r = user:request{method = "POST", url = "/api/login",
                         headers = {["Content-Type"] = "application/json"},
                         body = string.format('{"user":"u%d","password":"pw"}', user.id)}
  assert(r.status == 200, "login status " .. tostring(r.status))
  local token = r:json().token
  user:sleep(1)
  local p = user:request{url = "/api/profile", headers = {Authorization = "Bearer " .. token}}
  log:write(string.format("step %d %d %s\n", user.id, p.status, tostring(p.fail)))
  user.steps = (user.steps or 0) + 1
end
function broken(user)
  user:sleep(0)
  error("broken on purpose")
end
