-- wrk script: POST signed Frappe Sales Order webhooks to OTP, each for a
-- different order, so that every request is a new task (nothing dedupes).
--
--   OTP_WEBHOOK_SECRET=... wrk -t1 -c32 -d30s -s deploy/load/webhook.lua \
--       http://127.0.0.1:18001/webhooks/erpnext/sales-order
--
-- Env: OTP_WEBHOOK_SECRET (required: the secret otp serve verifies with);
-- WRK_RATE and WRK_THREADS pace the load (pace.lua). The signature is Frappe's: base64(HMAC-SHA256(secret, body))
-- in X-Frappe-Webhook-Signature (docs/erpnext.md#the-signature).
--
-- The body is shaped like the one OTP's migration template sends, with the
-- keys that vary (name, modified) last: the HMAC's inner hash state after
-- the constant prefix (padded with spaces to whole 64-byte blocks) is
-- computed once, so each request costs three SHA-256 blocks of Lua, not
-- twenty, and the load generator leaves the two cores to OTP and Redis.

package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local pace = require("pace")
local bit = require("bit")
local band, bor, bxor, bnot = bit.band, bit.bor, bit.bxor, bit.bnot
local rshift, lshift, ror, tobit = bit.rshift, bit.lshift, bit.ror, bit.tobit
local byte, char, rep, concat = string.byte, string.char, string.rep, table.concat

local K = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}
for i = 1, 64 do K[i] = tobit(K[i]) end
local IV = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 }
for i = 1, 8 do IV[i] = tobit(IV[i]) end

local W = {}

-- compress runs SHA-256 over the 64-byte block of s at 1-based offset off,
-- updating the state H (eight signed 32-bit numbers) in place.
local function compress(H, s, off)
  for i = 0, 15 do
    local a, b, c, d = byte(s, off + i * 4, off + i * 4 + 3)
    W[i] = bor(lshift(a, 24), lshift(b, 16), lshift(c, 8), d)
  end
  for i = 16, 63 do
    local w15, w2 = W[i - 15], W[i - 2]
    local s0 = bxor(ror(w15, 7), ror(w15, 18), rshift(w15, 3))
    local s1 = bxor(ror(w2, 17), ror(w2, 19), rshift(w2, 10))
    W[i] = tobit(W[i - 16] + s0 + W[i - 7] + s1)
  end
  local a, b, c, d, e, f, g, h = H[1], H[2], H[3], H[4], H[5], H[6], H[7], H[8]
  for i = 0, 63 do
    local t1 = tobit(h + bxor(ror(e, 6), ror(e, 11), ror(e, 25)) + bxor(band(e, f), band(bnot(e), g)) + K[i + 1] + W[i])
    local t2 = tobit(bxor(ror(a, 2), ror(a, 13), ror(a, 22)) + bxor(band(a, b), band(a, c), band(b, c)))
    h, g, f, e, d, c, b, a = g, f, e, tobit(d + t1), c, b, a, tobit(t1 + t2)
  end
  H[1], H[2], H[3], H[4] = tobit(H[1] + a), tobit(H[2] + b), tobit(H[3] + c), tobit(H[4] + d)
  H[5], H[6], H[7], H[8] = tobit(H[5] + e), tobit(H[6] + f), tobit(H[7] + g), tobit(H[8] + h)
end

local function copy(H) return { H[1], H[2], H[3], H[4], H[5], H[6], H[7], H[8] } end

-- absorb runs whole blocks of s (#s a multiple of 64) into a copy of H.
local function absorb(H, s)
  H = copy(H)
  for off = 1, #s, 64 do compress(H, s, off) end
  return H
end

local function be32(x)
  return char(band(rshift(x, 24), 255), band(rshift(x, 16), 255), band(rshift(x, 8), 255), band(x, 255))
end

-- finish hashes tail after done bytes already absorbed into H and returns
-- the 32-byte digest.
local function finish(H, done, tail)
  H = copy(H)
  local total = done + #tail
  local zeros = (55 - total) % 64
  local bits = total * 8
  local msg = tail .. "\128" .. rep("\0", zeros) .. be32(math.floor(bits / 4294967296)) .. be32(bits % 4294967296)
  for off = 1, #msg, 64 do compress(H, msg, off) end
  local out = {}
  for i = 1, 8 do out[i] = be32(H[i]) end
  return concat(out)
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = byte(s, i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local c1, c2 = rshift(n, 18) + 1, band(rshift(n, 12), 63) + 1
    local c3, c4 = band(rshift(n, 6), 63) + 1, band(n, 63) + 1
    out[#out + 1] = B64:sub(c1, c1) .. B64:sub(c2, c2)
      .. (b and B64:sub(c3, c3) or "=") .. (c and B64:sub(c4, c4) or "=")
  end
  return concat(out)
end

-- hmac_prefix precomputes HMAC-SHA256(key, prefix .. suffix) for any
-- suffix, #prefix a multiple of 64; it returns a function of the suffix.
local function hmac_prefix(key, prefix)
  if #key > 64 then key = finish(IV, 0, key) end
  key = key .. rep("\0", 64 - #key)
  local ipad, opad = {}, {}
  for i = 1, 64 do
    local k = byte(key, i)
    ipad[i], opad[i] = char(bxor(k, 0x36)), char(bxor(k, 0x5c))
  end
  local inner = absorb(absorb(IV, concat(ipad)), prefix)
  local outer = absorb(IV, concat(opad))
  local done = 64 + #prefix
  return function(suffix)
    return finish(outer, 64, finish(inner, done, suffix))
  end
end

-- The constant part of the body: everything but name and modified.
local line = '{"name": "r%d", "idx": %d, "item_code": "%s", "qty": %s, "stock_qty": %s, "uom": "Nos",'
  .. ' "stock_uom": "Nos", "conversion_factor": 1.0, "warehouse": "Stores - WH", "delivery_date": "2026-12-02",'
  .. ' "delivered_qty": 0.0, "custom_otp_line_promise_date": null, "custom_otp_line_confidence": null}'
local prefix = '{"doctype": "Sales Order", "docstatus": 1, "status": "To Deliver and Bill",'
  .. ' "customer": "Caf\\u00e9 Dupont", "company": "Demo Company", "transaction_date": "2026-11-25",'
  .. ' "delivery_date": "2026-12-02", "set_warehouse": "Stores - WH", "modified_by": "sales@example.com",'
  .. ' "custom_otp_promise_date": null, "custom_otp_confidence": null, "custom_otp_status": null,'
  .. ' "custom_otp_first_promise_date": null, "custom_otp_promised_at": null, "custom_otp_fingerprint": null,'
  .. ' "items": [' .. line:format(1, 1, "SKU-001", "5.0", "5.0") .. ", "
  .. line:format(2, 2, "SKU-002", "10.0", "10.0") .. ", " .. line:format(3, 3, "SKU-030", "2.0", "2.0") .. "],"
prefix = prefix .. rep(" ", (64 - #prefix % 64) % 64)

local secret = os.getenv("OTP_WEBHOOK_SECRET")
if not secret or secret == "" then error("webhook.lua: set OTP_WEBHOOK_SECRET") end
local sign = hmac_prefix(secret, prefix)

-- Each thread numbers its own orders; setup gives each thread an id.
local next_id = 0
function setup(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
end

-- Order names are unique per run (WRK_RUN, else the start time), thread
-- and request: a name seen before would be answered 200 "duplicate".
local run = os.getenv("WRK_RUN") or tostring(os.time())
local n = 0
function request()
  n = n + 1
  local suffix = string.format(' "name": "SAL-ORD-LOAD-%s-%d-%09d", "modified": "2026-11-25 10:00:00.123456"}', run, tid, n)
  local body = prefix .. suffix
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["X-Frappe-Webhook-Signature"] = base64(sign(suffix)),
  }, body)
end

delay = pace.delay()

-- selftest prints the signature of a known body, for checking against
-- openssl (README: "Checking the signature").
if os.getenv("WRK_SELFTEST") then
  local suffix = ' "name": "SAL-ORD-LOAD-1-000000001", "modified": "2026-11-25 10:00:00.123456"}'
  io.stderr:write("body: ", prefix .. suffix, "\nsig: ", base64(sign(suffix)), "\n")
end

function done(summary, latency, requests)
  pace.report(summary, latency)
end
