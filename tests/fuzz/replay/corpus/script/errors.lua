function setup(run) end
function request(user, req) error({table = "as error"}) end
function response(user, req, resp) error(nil) end
function on_start(user) error(42) end
function on_stop(user) local t = nil; return t.x end
function done(s) error(setmetatable({}, {__tostring = function() return "custom" end})) end
function step(user) error("in step") end
