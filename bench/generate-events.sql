-- Fills analytics_events with :n synthetic events over the 90 days before :now_ms, for
-- bench-query. Run by bench/bench-query through the sqlite3 shell on a database Steward made:
--   sqlite3 DB -cmd '.parameter set :n 10000000' -cmd '.parameter set :now_ms ...' < this file
--
-- Shape, roughly as a busy statistics site: about 3 events a visit and 1.6 visits a visitor;
-- 75% pageviews, 15% engagement, 10% custom events (downloads, outbound links, poll answers);
-- 2,000 pages with a long tail; 20 sources, 12 campaigns, 40 countries, 3 devices, 8 browsers;
-- one search in 20 pageviews.
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -262144;
BEGIN;
INSERT INTO analytics_events (ts, site, name, hostname, path, source, referrer, utm_campaign, search, visitor,
                              visit, identified, interactive, engaged_ms, scroll_depth, props, country, browser,
                              browser_version, os, os_version, device)
SELECT
  :now_ms - 90 * 86400000 + (v * (90 * 86400000 / (:n / 3))) + k * 47000,
  'ons.gov.uk',
  CASE WHEN r1 % 100 < 75 THEN 'pageview' WHEN r1 % 100 < 90 THEN 'engagement'
       WHEN r1 % 100 < 95 THEN 'File Download' WHEN r1 % 100 < 98 THEN 'Outbound Link: Click' ELSE 'Poll' END,
  'www.ons.gov.uk',
  '/' || CASE WHEN r2 % 10 < 4 THEN 'economy/page' || (r2 / 10 % 20)
              WHEN r2 % 10 < 7 THEN 'peoplepopulationandcommunity/page' || (r2 / 10 % 200)
              ELSE 'releases/page' || (r2 / 10 % 1780) END,
  CASE WHEN k > 0 THEN '' ELSE
    CASE v % 20 WHEN 0 THEN 'Google' WHEN 1 THEN 'Google' WHEN 2 THEN 'Google' WHEN 3 THEN 'Google' WHEN 4 THEN 'Google'
      WHEN 5 THEN 'Google' WHEN 6 THEN 'Bing' WHEN 7 THEN 'DuckDuckGo' WHEN 8 THEN 'BBC' WHEN 9 THEN 'Twitter'
      WHEN 10 THEN 'Facebook' WHEN 11 THEN 'LinkedIn' WHEN 12 THEN 'gov.uk' WHEN 13 THEN 'Newsletter'
      WHEN 14 THEN 'Guardian' WHEN 15 THEN 'Reddit' ELSE '' END END,
  CASE WHEN k > 0 OR v % 20 >= 16 THEN '' ELSE 'example-referrer-' || (v % 20) || '.co.uk' END,
  CASE WHEN k = 0 AND v % 31 < 12 THEN 'release-' || (v % 31) ELSE '' END,
  CASE WHEN r1 % 100 < 75 AND r3 % 20 = 0 THEN 'term' || (r3 / 20 % 300) ELSE '' END,
  v / 2 + (v % 5),
  v,
  v % 3 = 0,
  1,
  CASE WHEN r1 % 100 BETWEEN 75 AND 89 THEN r3 % 300000 END,
  CASE WHEN r1 % 100 BETWEEN 75 AND 89 THEN r3 % 101 END,
  CASE WHEN r1 % 100 >= 98 THEN '{"answer":"' || CASE r3 % 3 WHEN 0 THEN 'yes' WHEN 1 THEN 'no' ELSE 'partly' END || '"}' ELSE '' END,
  CASE WHEN v % 10 < 7 THEN 'GB' ELSE 'C' || (v % 40) END,
  CASE v % 8 WHEN 0 THEN 'Chrome' WHEN 1 THEN 'Chrome' WHEN 2 THEN 'Safari' WHEN 3 THEN 'Mobile Safari'
    WHEN 4 THEN 'Edge' WHEN 5 THEN 'Firefox' WHEN 6 THEN 'Samsung Internet' ELSE 'Chrome Mobile' END,
  CAST(100 + v % 32 AS TEXT),
  CASE v % 4 WHEN 0 THEN 'Windows' WHEN 1 THEN 'iOS' WHEN 2 THEN 'Android' ELSE 'Mac OS X' END,
  CAST(10 + v % 7 AS TEXT),
  CASE v % 10 WHEN 0 THEN 'Tablet' WHEN 1 THEN 'Mobile' WHEN 2 THEN 'Mobile' WHEN 3 THEN 'Mobile' WHEN 4 THEN 'Mobile'
    ELSE 'Desktop' END
FROM (SELECT value / 3 AS v, value % 3 AS k, abs(random()) AS r1,
             -- a long tail: small page numbers much more often than large ones
             (abs(random()) % 1000) * (abs(random()) % 1000) / 500 AS r2, abs(random()) AS r3
      FROM generate_series(0, :n - 1));
COMMIT;
ANALYZE;
