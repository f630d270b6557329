-- The capture hook of tests/integration/capture/script.sh: drop health
-- checks, mask the login password in the request body and the token in the
-- response body, add a request header, rename a response header, and put
-- every search in a session of its own (the client key the converter groups by).
local function header(list, name)
  for _, h in ipairs(list) do
    if h[1]:lower() == name then return h[2] end
  end
end

function exchange(ex)
  if ex.target == "/health" then return false end
  if ex.target == "/boom" then error("boom on purpose") end
  if ex.target == "/bad" then ex.method = "NOT A TOKEN" end
  if ex.method == "POST" and ex.target == "/api/login" then
    ex.request.body = ex.request.body:gsub('("password"%s*:%s*)"[^"]*"', '%1"***"')
    ex.response.body = ex.response.body:gsub('("token"%s*:%s*)"[^"]*"', '%1"<token>"')
  end
  table.insert(ex.request.headers, {"X-Captured-By", "script " .. (header(ex.request.headers, "user-agent") and "ua" or "-")})
  for _, h in ipairs(ex.response.headers) do
    if h[1]:lower() == "content-type" then h[1] = "X-Original-Content-Type" end
  end
  if ex.target:find("^/api/search") then ex.client = "search-session" end
end
