function request(user, req)
  if req.method == "POST" then
    return false
  end
end
function response(user, req, resp) local x = resp.status +
end
