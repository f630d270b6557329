-- A response hook that never returns for one request: cut, counted, the run goes on.
function response(user, req, resp)
  if req.name == "bad" then while true do end end
end
