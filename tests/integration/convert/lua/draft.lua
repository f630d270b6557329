-- The convert hook of tests/integration/convert/script.sh: leave out the
-- static assets and the health check, name the search by its path, send a
-- signed header with every API request, rewrite the API version in the URLs,
-- and refuse (an error naming the request) a request to /forbidden.
local seen = {}
function request(req, ctx)
  seen[#seen + 1] = ctx.class .. "/" .. ctx.phase .. "/" .. ctx.step
  if req.url:find("^/static/") or req.url == "/health" then return false end
  if req.url == "/forbidden" then error("no request to /forbidden may be replayed") end
  if req.url:find("^/api/v1/search") then req.name = "search" end
  req.url = req.url:gsub("^/api/v1/", "/api/v2/")
  if req.url:find("^/api/") then
    table.insert(req.headers, {"X-Api-Key", "{{api_key}}"})
  end
  if req.method == "POST" and req.body then
    req.body = req.body:gsub('"user": "[^"]*"', '"user": "{{user}}"')
  end
end
