-- wrk script: POST the README's example quote to OTP's /otp/promise.
--
--   wrk -t1 -c16 -d30s -s deploy/load/quote.lua http://127.0.0.1:18001/otp/promise
--
-- Env: WRK_RATE and WRK_THREADS pace the load (pace.lua).

package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local pace = require("pace")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"customer": "Café Dupont", "items": [{"item_code": "SKU-050", "qty": 5},'
  .. ' {"item_code": "SKU-001", "qty": "10"}], "desired_date": "2026-12-01"}'

delay = pace.delay()

function done(summary, latency, requests)
  pace.report(summary, latency)
end
