-- The Locust example: fail a response whose JSON id is not the one expected;
-- user.vars.item set in on_start is used by a later template; a runtime error
-- in the hook fails that request only; on_start/on_stop append to a log file;
-- done() decides the exit code.
local log
function setup(run)
  log = assert(io.open(os.getenv("LUA_TEST_LOG"), "a"))
  log:setvbuf("line")
end
function on_start(user)
  user.vars.item = tostring(1000 + user.id)
  user.started = true
  log:write("start ", user.id, "\n")
end
function on_stop(user)
  log:write("stop ", user.id, " ", tostring(user.started), "\n")
end
function response(user, req, resp)
  local d = resp:json()
  if req.name == "boom" then
    error("boom on purpose")
  elseif req.name == "var" then
    if d.id ~= 1000 + user.id then return false, "var not applied" end
  elseif d.id ~= 123456 then
    return false, "id != 123456"
  end
end
function done(s)
  local f = assert(io.open(os.getenv("LUA_TEST_DONE"), "w"))
  f:write(string.format("%d %d %d\n", s.requests, s.failures_by.script or 0,
                        s.entries[1].count))
  f:close()
  if (s.failures_by.script or 0) > 0 then return 3 end
  return 0
end
