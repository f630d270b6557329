function request(user, req)
  req.url = "relative/path"
  req.method = "G E T"
  req.headers["X"] = "a\r\nb"
  req.body = {}
end
function response(user, req, resp)
  req.name = "changed"
end
function step(user)
  user:parallel{}
end
function done(s) return -1 end
