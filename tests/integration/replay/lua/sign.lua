-- request hook: adds X-Signature, a keyed hash of method, path and body
-- (the same function as sigsrv.py); requests named "skip" are not sent.
local key = "s3cret"
local function sign(s)
  local h = 0
  s = key .. s
  for i = 1, #s do h = (h * 31 + s:byte(i)) % 2147483648 end
  return string.format("%08x", h)
end
function request(user, req)
  if req.name == "skip" then return false end
  req.url = req.url .. "?u=" .. user.id
  req.headers["X-Signature"] = sign(req.method .. req.url .. (req.body or ""))
end
