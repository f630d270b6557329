-- token_refresh.lua: a bearer token that expires. The custom step "browse"
-- logs in when the user has no token or its token is about to expire
-- (TOKEN_TTL seconds, renewed at 90 % of it), and once more when the API
-- answers 401 anyway (revoked early: the 401 counts as an http failure of
-- "LUA browse", the retry is what the user does next).
local ttl = tonumber(os.getenv("TOKEN_TTL") or "300")

local function login(user)
  local r = user:request{method = "POST", url = "/api/login",
                         headers = {["Content-Type"] = "application/json"},
                         body = string.format('{"user": "user%d", "password": "pw"}', user.id)}
  local d = r.status == 200 and r:json()
  if not d or not d.token then error("login: " .. (r.fail or r.status)) end
  user.token = d.token
  user.expires = aiotest.now() + 0.9 * ttl     -- monotonic seconds
  user.logins = (user.logins or 0) + 1
end

local function profile(user)
  return user:request{url = "/api/profile", headers = {Authorization = "Bearer " .. user.token}}
end

function browse(user)
  if not user.token or aiotest.now() >= user.expires then login(user) end
  local p = profile(user)
  if p.status == 401 then
    login(user)
    p = profile(user)
  end
  if p.status ~= 200 then error("profile: " .. (p.fail or p.status)) end
end
