function request(user, req) req.headers = {["Bad Name"] = "v"} return 1, 2, 3 end
function response(user, req, resp) return false, {not_a_string = true} end
function done(s) return 1e300 end
function step(user) return user:request{url = 5} end
