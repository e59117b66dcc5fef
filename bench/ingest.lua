-- Varied Plausible-style events for wrk: pageviews, engagement, outbound links, downloads and poll
-- answers on ONS pages, from a spread of browsers and addresses, with analytics allowed.
--
--   wrk -s bench/ingest.lua URL/api/event -- 'COOKIES_POLICY_VALUE'
--
-- Counts answers per thread and prints "acked N dropped N other N" at the end: acked is a 202
-- without x-plausible-dropped (Steward) or a 204 (nginx's `return 204;`).

local paths = {
  "/", "/economy", "/economy/inflationandpriceindices", "/economy/grossdomesticproductgdp",
  "/peoplepopulationandcommunity", "/peoplepopulationandcommunity/populationandmigration",
  "/employmentandlabourmarket", "/census", "/releasecalendar", "/aboutus/contactus",
  "/search?q=inflation", "/search?q=population+estimates", "/search?q=cpih",
  "/economy?utm_source=newsletter&utm_medium=email&utm_campaign=gdp-release",
}
local referrers = {
  "", "", "", "https://www.google.com/", "https://www.google.co.uk/", "https://www.bing.com/search?q=ons",
  "https://www.bbc.co.uk/news/business", "https://duckduckgo.com/", "https://t.co/abc", "https://www.ons.gov.uk/",
}
local agents = {
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
  "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
  "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
  "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
}

local threads = {}
local cookie = ""

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  cookie = "cookies_policy=" .. (args[1] or "")
  acked, dropped, other = 0, 0, 0
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
end

local function pick(list) return list[math.random(#list)] end

function request()
  local path = pick(paths)
  local url = "https://www.ons.gov.uk" .. path
  local r = math.random(20)
  local body
  if r <= 13 then
    body = string.format('{"n":"pageview","u":"%s","d":"www.ons.gov.uk","r":"%s","w":%d}', url, pick(referrers),
                         math.random(320, 2560))
  elseif r <= 17 then
    body = string.format('{"n":"engagement","u":"%s","d":"www.ons.gov.uk","sd":%d,"e":%d}', url, math.random(0, 100),
                         math.random(500, 300000))
  elseif r == 18 then
    body = string.format('{"n":"Outbound Link: Click","u":"%s","d":"www.ons.gov.uk","p":{"url":"https://www.gov.uk/"}}', url)
  elseif r == 19 then
    body = string.format('{"n":"File Download","u":"%s","d":"www.ons.gov.uk","p":{"url":"https://www.ons.gov.uk/file?uri=/data%d.xlsx"}}',
                         url, math.random(50))
  else
    body = string.format('{"name":"Poll","url":"%s","domain":"www.ons.gov.uk","props":{"question":"useful","answer":"%s"}}',
                         url, pick({"yes", "no", "partly"}))
  end
  local ip = string.format("%d.%d.%d.%d", pick({81, 86, 90, 92, 212, 151, 2, 5}), math.random(255), math.random(255),
                           math.random(254))
  return wrk.format("POST", nil, {
    ["Content-Type"] = "text/plain",
    ["User-Agent"] = pick(agents),
    ["X-Forwarded-For"] = ip,
    ["Cookie"] = cookie,
  }, body)
end

function response(status, headers, body)
  if status == 204 or (status == 202 and headers["x-plausible-dropped"] == nil) then
    acked = acked + 1
  elseif status == 202 then
    dropped = dropped + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local a, d, o = 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("acked")
    d = d + t:get("dropped")
    o = o + t:get("other")
  end
  io.write(string.format("acked %d dropped %d other %d\n", a, d, o))
end
