-- wrk's examples/scripts/pipeline.lua (Debian package wrk,
-- /usr/share/doc/wrk/examples/scripts/pipeline.lua), made 10 deep for
-- bench/run's case h1p: each call of request() hands wrk ten GETs of the
-- URL's path in one string, which wrk writes at once (one batch per
-- connection, as aiotest-replay --pipeline 10 with a parallel step of 10).
init = function(args)
   local r = {}
   for i = 1, 10 do
      r[i] = wrk.format(nil, nil)
   end
   req = table.concat(r)
end

request = function()
   return req
end
