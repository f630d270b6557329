-- check_id.lua: decide success by a business rule, as Locust's
--   if data["id"] != "123456": resp.failure("id != 123456")
-- Every item answer must be item 123456; others fail as category "script"
-- with the reason in the summary's "Failure reasons (script)" table and the
-- report's failure_reasons.
function response(user, req, resp)
  if not req.name:find("^GET /api/item/") then return end
  local data, err = resp:json()
  if not data then return false, err end            -- not JSON: fail with the parser's message
  if data.id ~= 123456 then return false, "id != 123456" end
end
