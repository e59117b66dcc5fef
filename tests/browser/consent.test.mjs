// The cookie banner and cookies page in Chromium, on the ONS example (which asks) and the Civil
// Service example (which sets no cookies): first visit, accept, reject, hide, change on /cookies,
// keyboard only, JavaScript off, and the banner on another site's page through /steward.js.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startSteward, launchBrowser, shot } from './steward.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

const question = (page) => page.locator('[data-steward-question]');
const confirmation = (page, which) => page.locator(`[data-steward-confirmation="${which}"]`);

async function policy(context) {
  const c = (await context.cookies()).find((x) => x.name === 'cookies_policy');
  return c ? JSON.parse(decodeURIComponent(c.value)) : null;
}

async function withSteward(config, fn, options) {
  const steward = await startSteward(config, options);
  try {
    await fn(steward);
  } finally {
    assert.equal(await steward.stop(), 0);
  }
}

test('ONS: the banner on a first visit sets nothing; accepting needs no reload and moves focus', async () => {
  await withSteward('examples/ons.toml', async (steward) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(steward.url);
    await assert.doesNotReject(question(page).waitFor());
    assert.match(await page.locator('.govuk-cookie-banner__heading').innerText(), /Cookies on the ONS website/);
    assert.deepEqual(await context.cookies(), [], 'no cookie at all before a choice');
    await shot(page, 'consent-1-first-visit');

    await page.evaluate(() => { window.notReloaded = true; });
    await page.getByRole('button', { name: 'Accept analytics cookies' }).click();
    await confirmation(page, 'accepted').waitFor();
    assert.equal(await page.evaluate(() => window.notReloaded), true, 'no reload');
    assert.equal(await question(page).isVisible(), false);
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-steward-confirmation')), 'accepted');
    assert.equal(await confirmation(page, 'accepted').getAttribute('role'), 'alert');
    assert.match(await confirmation(page, 'accepted').innerText(), /You've accepted analytics cookies/);
    const p = await policy(context);
    assert.equal(p.essential, true);
    assert.equal(p.usage, true);
    assert.ok((await context.cookies()).some((c) => c.name === 'cookies_preferences_set' && c.value === 'true'));
    assert.equal(await page.evaluate(() => window.Steward.allowed('usage')), true);
    await shot(page, 'consent-2-accepted');

    await page.getByRole('button', { name: 'Hide cookie message' }).click();
    assert.equal(await page.locator('.govuk-cookie-banner').isVisible(), false);
    await page.goto(steward.url + 'privacy');
    assert.equal(await page.locator('.govuk-cookie-banner').count(), 0, 'not shown again once chosen');
    await context.close();
  });
});

test('ONS: rejecting, then changing on the cookies page, recorded with the notice version', async () => {
  await withSteward('examples/ons.toml', async (steward) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(steward.url + 'privacy');
    await page.getByRole('button', { name: 'Reject analytics cookies' }).click();
    await confirmation(page, 'rejected').waitFor();
    assert.equal((await policy(context)).usage, false);
    assert.ok(!(await context.cookies()).some((c) => c.name === 'steward_visitor'));
    await shot(page, 'consent-3-rejected');

    await page.getByRole('link', { name: 'change your cookie settings' }).click();
    await page.waitForURL(/\/cookies$/);
    assert.equal(await page.getByRole('radio', { name: 'No' }).isChecked(), true);
    await page.getByRole('radio', { name: 'Yes' }).check();
    await page.getByRole('button', { name: 'Save cookie settings' }).click();
    assert.match(await page.locator('.govuk-notification-banner').innerText(), /You've set your cookie preferences/);
    assert.equal(await page.getByRole('radio', { name: 'Yes' }).isChecked(), true);
    assert.equal((await policy(context)).usage, true);
    await shot(page, 'consent-4-cookies-page-saved');
    const reference = await page.locator('code', { hasText: /^[0-9a-f]{32}$/ }).innerText();
    const api = await page.evaluate(async () => (await fetch('/api/consent')).json());
    assert.equal(api.recorded.method, 'cookies-page');
    assert.equal(api.recorded.notice_version, api.notice_version);
    assert.match(reference, /^[0-9a-f]{32}$/);
    await context.close();
  });
});

test('ONS: keyboard only', async () => {
  await withSteward('examples/ons.toml', async (steward) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(steward.url);
    await question(page).waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.textContent.trim()), 'Accept analytics cookies',
      'the banner comes first, before the skip link');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.textContent.trim()), 'Reject analytics cookies');
    await page.keyboard.press('Enter');
    await confirmation(page, 'rejected').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-steward-confirmation')), 'rejected');
    await page.keyboard.press('Tab');  // the link to the cookies page
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.textContent.trim()), 'Hide cookie message');
    await page.keyboard.press('Enter');
    assert.equal(await page.locator('.govuk-cookie-banner').isVisible(), false);
    assert.equal((await policy(context)).usage, false);
    await shot(page, 'consent-5-keyboard-hidden');
    await context.close();
  });
});

test('ONS: with JavaScript off the banner is a form that reloads the page', async () => {
  await withSteward('examples/ons.toml', async (steward) => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(steward.url + 'privacy');
    await page.getByRole('button', { name: 'Accept analytics cookies' }).click();
    await page.waitForURL(/\/privacy$/);
    assert.match(await confirmation(page, 'accepted').innerText(), /You've accepted analytics cookies/);
    assert.equal((await policy(context)).usage, true);
    await shot(page, 'consent-6-no-javascript-accepted');
    await page.getByRole('button', { name: 'Hide cookie message' }).click();
    await page.waitForURL(/\/privacy$/);
    assert.equal(await page.locator('.govuk-cookie-banner').count(), 0);
    await context.close();
  });
});

// Serves a page the site renders itself ("Economy"), with `tags` before /steward.js, on another
// port, and /tracker.js for a tag to load; `fn` gets its origin and tells it where Steward is.
async function withOtherSite(tags, fn) {
  let stewardUrl = '';
  const other = http.createServer((req, res) => {
    if (req.url === '/tracker.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end('window.trackerRan = (window.trackerRan || 0) + 1;');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!DOCTYPE html><html lang="en" class="govuk-template"><head><title>Economy – ONS</title>
      <link rel="stylesheet" href="${stewardUrl}static/govuk/govuk-frontend.min.css"></head>
      <body class="govuk-template__body"><main class="govuk-width-container"><h1 class="govuk-heading-xl">Economy</h1>
      <p class="govuk-body">A page the site renders itself.</p></main>
      ${tags}<script src="${stewardUrl}steward.js" defer></script></body></html>`);
  });
  await new Promise((resolve) => other.listen(0, '127.0.0.1', resolve));
  try {
    await fn(`http://127.0.0.1:${other.address().port}`, (url) => { stewardUrl = url; });
  } finally {
    other.close();
  }
}

test("ONS: the banner on the site's own page, served from another port, through /steward.js", async () => {
  await withOtherSite('', async (origin, stewardIs) => {
    await withSteward('examples/ons.toml', async (steward) => {
      stewardIs(steward.url);
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(origin + '/economy');
      await question(page).waitFor();
      assert.equal(await page.evaluate(() => document.body.firstElementChild.hasAttribute('data-steward-cookie-banner')),
        true, 'first in <body>');
      await shot(page, 'consent-7-other-site-banner');
      await page.getByRole('button', { name: 'Accept analytics cookies' }).click();
      await confirmation(page, 'accepted').waitFor();
      assert.equal(page.url(), origin + '/economy');
      assert.equal((await policy(context)).usage, true);
      assert.equal(await page.evaluate(() => window.Steward.allowed('usage')), true);
      await shot(page, 'consent-8-other-site-accepted');
      const state = await (await context.request.get(steward.url + 'api/consent')).json();
      assert.equal(state.recorded.method, 'script');
      await context.close();
    }, { scriptOrigins: [origin] });
  });
});

// A site's third-party tag (Google Analytics' shape) waits for the visitor's choice: it runs once
// the usage category is allowed, and after a withdrawal its declared cookie goes from the page.
test("ONS: a site's third-party script runs only after usage is allowed, and its cookie goes after a no", async () => {
  const tags = `<script type="text/plain" data-steward-category="usage">
        document.cookie = '_ga=GA1.1.42; Path=/; Max-Age=3600';
        window.tagRan = (window.tagRan || 0) + 1;
      </script>
      <script type="text/plain" data-steward-category="usage" src="/tracker.js"></script>`;
  const ga = async (context) => (await context.cookies()).find((c) => c.name === '_ga');
  const declareGa = (text) => text + `
[[register.cookies]]
name = "_ga"
provider = "Google Analytics"
party = "third"
category = "usage"
purpose = "Counts visitors for our analytics tag"
expiry = "2 years"
`;
  await withOtherSite(tags, async (origin, stewardIs) => {
    await withSteward('examples/ons.toml', async (steward) => {
      stewardIs(steward.url);
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(origin + '/economy');
      await question(page).waitFor();
      assert.equal(await page.evaluate(() => window.tagRan), undefined, 'not before a choice');
      assert.equal(await page.evaluate(() => window.trackerRan), undefined);
      assert.equal(await ga(context), undefined);

      await page.getByRole('button', { name: 'Accept analytics cookies' }).click();
      await confirmation(page, 'accepted').waitFor();
      await page.waitForFunction(() => window.tagRan === 1 && window.trackerRan === 1);
      assert.equal((await ga(context))?.value, 'GA1.1.42');
      await page.reload();
      await page.waitForFunction(() => window.tagRan === 1 && window.trackerRan === 1);
      assert.equal(await page.evaluate(() => document.querySelectorAll('script[data-steward-ran]').length), 2,
        'each tag runs once a page');

      // Withdrawn on the cookies page; a tag left the cookie behind (as one in another tab would).
      await page.goto(steward.url + 'cookies');
      await page.getByRole('radio', { name: 'No' }).check();
      await page.getByRole('button', { name: 'Save cookie settings' }).click();
      await context.addCookies([{ name: '_ga', value: 'left', domain: '127.0.0.1', path: '/' }]);
      await page.goto(origin + '/economy');
      await page.waitForFunction(() => !document.cookie.includes('_ga='));
      assert.equal(await ga(context), undefined, 'steward.js deleted the declared cookie');
      assert.equal(await page.evaluate(() => window.tagRan), undefined, 'and the tag did not run');
      assert.equal(await page.evaluate(() => window.trackerRan), undefined);
      await context.close();
    }, { scriptOrigins: [origin], edit: declareGa });
  });
});

test('Civil Service: no banner and no cookie', async () => {
  await withSteward('examples/civil-service.toml', async (steward) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    for (const p of ['', 'privacy', 'cookies']) {
      await page.goto(steward.url + p);
      assert.equal(await page.locator('.govuk-cookie-banner').count(), 0, p);
    }
    assert.match(await page.locator('main').innerText(), /does not use cookies/);
    assert.deepEqual(await context.cookies(), []);
    await shot(page, 'consent-9-civil-service-cookies');
    await context.close();
  });
});
