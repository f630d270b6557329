-- custom_metric.lua: business figures beside the request statistics, on
-- /metrics (aiotest_script_*) and in the report's script_metrics.
--   responses by status class   aiotest_script_responses_total{class="2xx"}
--   stock of the items seen     aiotest_script_item_stock (a histogram)
--   search results returned     aiotest_script_search_results_total
local stock = metric.histogram("item_stock", nil, {0, 10, 100, 1000})   -- made once: no lookup per call
local results = metric.counter("search_results")

function response(user, req, resp)
  -- A label made from data is bounded (100 label sets per metric): a status
  -- class has 5 values, a user id would not fit.
  metric.counter("responses", {class = math.floor(resp.status / 100) .. "xx"}):inc()
  if req.name:find("^GET /api/item/") then
    local d = resp:json()
    if d then stock:observe(d.stock) end
  elseif req.name == "GET /api/search" then
    local d = resp:json()
    if d then results:inc(#d.results) end
  end
end
