-- wrk script: POST one consent per request (a valid body, no Origin header).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"policy_version":"2026-11-01","purposes":{"personalization":true,"analytics":false},'
  .. '"ui":"3fa9c1d2b07e44aa3fa9c1d2b07e44aa3fa9c1d2b07e44aa3fa9c1d2b07e44aa"}'
wrk.path = "/v1/consent"

local statuses = {}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

done = function(summary, latency, requests)
  io.write(string.format("p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000))
end
