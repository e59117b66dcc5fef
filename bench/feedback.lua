-- Feedback forms as people send them, for wrk: problem reports, contact messages (half wanting a
-- reply) and service ratings, posted as the HTML forms at /feedback post them, from a spread of
-- addresses, with the form timer the page gave.
--
--   wrk -s bench/feedback.lua URL/feedback -- 'STARTED'
--
-- Prints "kept N other N" at the end: kept is a 200 thank-you page (Steward) or a 204 (nginx's
-- `return 204;`); then "wait max N p99 N", the longest wait for an answer and the 99th percentile,
-- in microseconds.

local pages = { "/jobs", "/guidance/apply", "/pay/grades", "/pensions", "/contact", "/news/2027/01" }
local doing = { "Looking for the closing date", "Trying to apply for a job", "Reading the pay scales" }
local wrong = { "The link to the form is broken", "The page would not load on my phone",
                "I could not find the closing date anywhere on the page" }
local messages = {
  "I applied three weeks ago and have heard nothing. What happens next?",
  "Could you send me the guidance as a large-print document? My phone is 07700 900123.",
  "Thank you, the new pages are much clearer than before.",
}

local threads = {}
local started = ""

function setup(thread) table.insert(threads, thread) end

local function enc(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  started = args[1] or ""
  kept, other = 0, 0
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
end

local function pick(list) return list[math.random(#list)] end

function request()
  local r = math.random(10)
  local body
  if r <= 5 then
    body = "kind=problem&page=" .. enc(pick(pages)) .. "&doing=" .. enc(pick(doing)) .. "&wrong=" .. enc(pick(wrong))
  elseif r <= 8 then
    body = "kind=contact&page=" .. enc(pick(pages)) .. "&message=" .. enc(pick(messages))
    if r <= 6 then
      body = body .. "&reply=yes&name=" .. enc("Sam Person") .. "&email=" ..
        enc("sam" .. math.random(100000) .. "@example.org") .. "&share=yes"
    end
  else
    body = "kind=rating&rating=" .. math.random(5) .. "&message=" .. enc(pick(messages))
  end
  body = body .. "&started=" .. enc(started) .. "&giraffe="
  local ip = string.format("%d.%d.%d.%d", pick({81, 86, 90, 92, 212, 151, 2, 5}), math.random(255), math.random(255),
                           math.random(254))
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Sec-Fetch-Site"] = "same-origin",
    ["X-Forwarded-For"] = ip,
  }, body)
end

function response(status, headers, body)
  if status == 200 or status == 204 then kept = kept + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local k, o = 0, 0
  for _, t in ipairs(threads) do
    k = k + t:get("kept")
    o = o + t:get("other")
  end
  io.write(string.format("kept %d other %d\n", k, o))
  io.write(string.format("wait max %d p99 %d\n", latency.max, latency:percentile(99)))
end
