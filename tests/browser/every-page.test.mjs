// Every page of every example site passes axe-core for WCAG 2.2 A and AA, public and staff alike,
// a keyboard's first Tab reaches a skip link that leads to the page's main content, and every form
// can be sent without JavaScript (and on a staff page, carries its CSRF token if it posts): pages
// found by following links rather than from a list, so that a page added later is checked without
// anyone remembering to add it here.
//
// For each site: a visitor accepts the analytics cookies where the banner asks, and the crawl walks
// the public pages from the home page and the modules' entry pages (kPublicEntries), and checks the
// page for an address the site does not have. A feedback item is posted to the site's own API where
// the site takes feedback, and an access log with a scan in it is imported, so that the staff pages
// have something to show. Then a member of staff holding every role signs in, and the crawl walks
// the staff pages from /admin and from every staff route without a parameter in
// tests/fixtures/staff-permissions.txt, whether or not a link leads there. A page is checked once
// for each shape of its address (/admin/staff/7 and /admin/staff/9 are one page; a query string
// makes no new page). Links that end a session, download a file or leave the site are not
// followed, and no form is sent: the other browser tests check the pages a form leads to.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startSteward, launchBrowser, axeViolations, signInStaff, addStaff, sourceDir, binary } from './steward.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

const kAllRoles = ['admin', 'dpo', 'analyst', 'caseworker', 'security', 'communications'];
// A site's pages are few; this bounds a crawl that a link generating new addresses would not end.
const kMaxPages = 120;

// The staff routes a GET reaches without a parameter (downloads aside).
const staffEntries = readFileSync(path.join(sourceDir, 'tests/fixtures/staff-permissions.txt'), 'utf8')
  .split('\n')
  .map((line) => line.trim().split(/\s+/))
  .filter(([method, route]) => method === 'GET' && route && !route.includes('{') && !isDownload(route))
  .map(([, route]) => route);

// Addresses whose answer is not a page, or whose visit changes the session.
function isDownload(p) {
  return /\.(csv|json|txt|js|css|png|svg|ico|woff2?)$|\/(csv|export|download)$|\/jwks/.test(p);
}
// Where a visitor comes in from the body's own site rather than by a link on Steward's pages; a
// module the site does not use answers 404, and the crawl passes over it.
const kPublicEntries = ['/', '/privacy', '/cookies', '/privacy/versions', '/feedback',
                        '/subscriptions', '/account', '/account/register', '/account/sign-in',
                        '/account/password-reset'];
const kNotFollowed = /\/(sign-out|logout|signed-out)$|\/oidc(\/|$)|\/evidence$/;

// The shape of an address: its path with every number, token and case reference made a parameter.
function shapeOf(pathname) {
  return pathname.split('/').map((segment) => {
    if (/^\d+$/.test(segment)) return '{n}';
    if (/^[0-9a-f]{16,}$/i.test(segment) || /^[A-Za-z0-9_-]{32,}$/.test(segment)) return '{token}';
    if (/^[A-Z]+-\d+$/.test(segment)) return '{ref}';
    return segment;
  }).join('/');
}

// Visits every page reachable from `starts` on `page`, checking each with axe-core. Returns the
// shapes visited and the violations, as "shape: rule: target" lines.
async function crawl(page, origin, starts, { within = () => true } = {}) {
  const queue = [...starts];
  const seen = new Set();
  const visited = [];
  const violations = [];
  while (queue.length > 0 && visited.length < kMaxPages) {
    const url = new URL(queue.shift(), origin);
    const shape = shapeOf(url.pathname);
    if (seen.has(shape)) continue;
    seen.add(shape);
    const response = await page.goto(url.href);
    const landed = new URL(page.url());
    // A page this site does not serve, or one that sends the visitor elsewhere (a sign-in page is
    // crawled in its own right), is not this shape's page.
    if (!response || response.status() === 404 || landed.origin !== origin || shapeOf(landed.pathname) !== shape) {
      continue;
    }
    assert.ok(response.status() < 500, `${url.pathname} answered ${response.status()}`);
    if (!(response.headers()['content-type'] ?? '').startsWith('text/html')) continue;
    // A fragment (the cookie banner, which the script puts into a page) is checked in the pages that
    // hold it, not alone.
    if (!/<html[\s>]/i.test(await response.text())) continue;
    visited.push(shape);
    for (const v of await axeViolations(page)) violations.push(`${shape}: ${v}`);
    // Every form can be sent without JavaScript (it has a button that submits it), and every form
    // that posts on a staff page carries the session's CSRF token.
    const forms = await page.locator('form').evaluateAll((fs) => fs.map((f) => ({
      action: f.getAttribute('action') ?? '(this page)',
      post: (f.getAttribute('method') ?? 'get').toLowerCase() === 'post',
      submits: f.querySelector('button:not([type]), button[type="submit"], input[type="submit"]') !== null,
      csrf: f.querySelector('input[type="hidden"][name="csrf_token"]') !== null,
    })));
    for (const f of forms) {
      if (!f.submits) violations.push(`${shape}: the form to ${f.action} has no button that sends it`);
      if (f.post && url.pathname.startsWith('/admin') && !f.csrf) {
        violations.push(`${shape}: the form posting to ${f.action} has no CSRF token`);
      }
    }
    // By keyboard, the first stop past the cookie banner (which GOV.UK puts before everything, a
    // visitor's choice not yet made) is the link past the header, and it leads somewhere.
    const inBanner = () => page.evaluate(() => document.activeElement?.closest('.govuk-cookie-banner') != null);
    await page.keyboard.press('Tab');
    for (let i = 0; i < 10 && await inBanner(); i++) await page.keyboard.press('Tab');
    const skip = await page.evaluate(() => {
      const a = document.activeElement;
      const target = a?.getAttribute('href')?.startsWith('#') ? document.getElementById(a.getAttribute('href').slice(1)) : null;
      return { text: a?.textContent?.trim(), target: target !== null };
    });
    if (skip.text !== 'Skip to main content' || !skip.target) {
      violations.push(`${shape}: the first Tab reaches ${JSON.stringify(skip.text)}, not a working skip link`);
    }
    const links = await page.locator('a[href]').evaluateAll((as) => as.map((a) => a.href));
    for (const link of links) {
      const next = new URL(link);
      if (next.origin !== origin || isDownload(next.pathname) || kNotFollowed.test(next.pathname)) continue;
      if (!within(next.pathname) || seen.has(shapeOf(next.pathname))) continue;
      next.hash = '';
      queue.push(next.href);
    }
  }
  return { visited, violations };
}

// A combined-format access log of `when`: people reading a few pages, and a scanner trying the
// usual addresses and an injection, which raise security alerts.
function accessLog(when) {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (n) => String(n).padStart(2, '0');
  const stamp = `${two(when.getUTCDate())}/${months[when.getUTCMonth()]}/${when.getUTCFullYear()}:` +
                `${two(when.getUTCHours())}:${two(when.getUTCMinutes())}:${two(when.getUTCSeconds())} +0000`;
  const browser = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) ' +
                  'Chrome/131.0.0.0 Safari/537.36';
  const lines = [];
  for (let i = 0; i < 30; i++) {
    lines.push(`203.0.113.${i % 7 + 1} - - [${stamp}] "GET /guidance/page-${i % 5} HTTP/1.1" 200 5120 ` +
               `"https://www.google.com/" "${browser}"`);
  }
  for (const p of ['/.env', '/wp-login.php', '/.git/config', '/phpmyadmin/', '/search?q=%27%20OR%201=1--']) {
    lines.push(`198.51.100.9 - - [${stamp}] "GET ${p} HTTP/1.1" 404 153 "-" "sqlmap/1.7"`);
  }
  return lines.join('\n') + '\n';
}

for (const example of ['demo', 'civil-service', 'hantsweb', 'national-careers', 'nlc-connect', 'ons']) {
  test(`${example}: every public and staff page passes axe-core`, async () => {
    const steward = await startSteward(`examples/${example}.toml`);
    const context = await browser.newContext();
    try {
      const origin = new URL(steward.url).origin;
      const page = await context.newPage();
      await page.goto(steward.url);
      const accept = page.getByRole('button', { name: /^Accept/ });
      if (await accept.count() > 0) {
        await accept.first().click();
        await page.locator('[data-steward-confirmation="accepted"]').waitFor();
      }

      const isStaff = (p) => p === '/admin' || p.startsWith('/admin/');
      const pub = await crawl(page, origin, kPublicEntries, { within: (p) => !isStaff(p) });
      assert.ok(pub.visited.includes('/privacy'), `the privacy notice was checked: ${pub.visited.join(' ')}`);
      // The page for an address the site does not have.
      const missing = await page.goto(steward.url + 'no-such-page');
      assert.equal(missing.status(), 404);
      for (const v of await axeViolations(page)) pub.violations.push(`404: ${v}`);

      // Something for the caseworker's pages to show, where the site takes feedback.
      await page.goto(steward.url);
      await page.evaluate(async () => {
        await fetch('/api/feedback', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ kind: 'contact', page: '/', message: 'The form lost my answers',
                                 name: 'Jo Bloggs', email: 'jo@example.org' }),
        });
      });

      // And for the analyst's and the security team's: an access log with visits and a scan in it.
      const log = path.join(steward.data, 'access.log');
      writeFileSync(log, accessLog(new Date()));
      execFileSync(binary, ['logs', 'import', '--config', steward.configPath, '--data', steward.data, log],
                   { stdio: 'ignore' });

      addStaff(steward, 'everyone@example.gov.uk', kAllRoles);
      await signInStaff(page, steward, 'everyone@example.gov.uk');
      const staff = await crawl(page, origin, ['/admin', ...staffEntries], { within: isStaff });
      // The scan was seen, and the security page listed what it raised (then passed axe-core).
      await page.goto(steward.url + 'admin/security');
      assert.match(await page.locator('main').innerText(), /attack-path|\/\.env/, 'the alerts are listed');
      for (const entry of ['/admin', '/admin/staff', '/admin/audit', '/admin/ropa', '/admin/logs', '/admin/security']) {
        assert.ok(staff.visited.includes(entry), `${entry} was checked: ${staff.visited.join(' ')}`);
      }
      console.log(`${example}: ${pub.visited.length} public and ${staff.visited.length} staff pages checked:`,
                  [...pub.visited, ...staff.visited].join(' '));
      assert.deepEqual([...pub.violations, ...staff.violations], []);
    } finally {
      await context.close();
      assert.equal(await steward.stop(), 0, 'steward stops cleanly');
    }
  });
}
