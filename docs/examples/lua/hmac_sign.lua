-- hmac_sign.lua: sign every request for an API gateway that checks
--   X-Signature = hex(HMAC-SHA256(secret, METHOD \n PATH?QUERY \n X-Timestamp \n BODY))
-- aiotest.hmac is OpenSSL's HMAC (any digest OpenSSL knows: sha256, sha512, ...);
-- aiotest.hex and aiotest.base64 encode its raw bytes.
local secret = os.getenv("API_SECRET") or "s3cret"

function request(user, req)
  local ts = tostring(os.time())
  local msg = req.method .. "\n" .. req.url .. "\n" .. ts .. "\n" .. (req.body or "")
  req.headers["X-Timestamp"] = ts
  req.headers["X-Signature"] = aiotest.hex(aiotest.hmac("sha256", secret, msg))
end
