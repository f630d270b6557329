-- user:parallel: four requests at once; the answers come back in order.
local log
function setup(run) log = assert(io.open(os.getenv("LUA_TEST_LOG"), "a")) log:setvbuf("line") end
function fan_out(user)
  local rs = user:parallel{
    {url = "/api/item/1"}, {url = "/api/item/2"}, {url = "/api/item/3"}, {url = "/api/item/4"},
  }
  local ids = {}
  for i, r in ipairs(rs) do ids[i] = tostring(r:json().id) end
  log:write("par ", table.concat(ids, ","), "\n")
end
