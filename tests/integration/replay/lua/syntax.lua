function response(user, req, resp)
  if resp.status == 200 then
    return false
  -- missing end
