// First-party analytics in Chromium on the ONS example: a visitor who accepts analytics cookies and
// clicks through the pages appears on the analyst's dashboard at once; one who rejects sends nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { startSteward, launchBrowser, shot, binary } from './steward.mjs';

// A person's browser: headless Chromium names itself in its user agent and is filtered as a bot.
const userAgent = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

test('ONS: an accepting visitor is on the dashboard, a rejecting one is not', async () => {
  const steward = await startSteward('examples/ons.toml');
  const browser = await launchBrowser();
  try {
    const sent = [];
    const visitor = await browser.newContext({ userAgent });
    const page = await visitor.newPage();
    page.on('request', (r) => { if (r.url().endsWith('/api/event')) sent.push(r.postData()); });
    await page.goto(steward.url);
    // Each page's pageview answered (so committed) before the next page: what is counted is under
    // test here, not whether a browser sends a beacon on from a page it is leaving.
    const answered = () => page.waitForFunction(
      () => performance.getEntriesByType('resource').some((e) => e.name.endsWith('/api/event')));
    await page.getByRole('button', { name: 'Accept analytics cookies' }).click();
    await page.locator('[data-steward-confirmation="accepted"]').waitFor();
    await answered();
    await page.getByRole('link', { name: 'Read the privacy notice' }).click();
    await page.waitForURL(/\/privacy$/);
    await answered();
    await page.locator('footer').getByRole('link', { name: 'Cookies', exact: true }).click();
    await page.waitForURL(/\/cookies$/);
    await answered();
    await page.evaluate(() => window.steward('event', 'Poll answer', { props: { poll: 'useful', answer: 'yes' } }));
    await page.close();  // sends the engagement event
    await visitor.close();

    const refuser = await browser.newContext({ userAgent });
    const other = await refuser.newPage();
    const refused = [];
    other.on('request', (r) => { if (r.url().endsWith('/api/event')) refused.push(r.url()); });
    await other.goto(steward.url);
    await other.getByRole('button', { name: 'Reject analytics cookies' }).click();
    await other.locator('[data-steward-confirmation="rejected"]').waitFor();
    await other.getByRole('link', { name: 'Read the privacy notice' }).click();
    await other.waitForURL(/\/privacy$/);
    await refuser.close();
    assert.equal(refused.length, 0, 'the tracker sends nothing the visitor refused');
    assert.ok(sent.length >= 3, `pageviews were sent (${sent.length})`);

    // An analyst, made on the command line beside the running server.
    const made = spawnSync(binary, ['staff', 'add', '--config', steward.configPath, '--data', steward.data,
                                    '--email', 'ana@example.gov.uk', '--role', 'analyst', '--password-stdin'],
                           { input: 'purple tractor umbrella\n' });
    assert.equal(made.status, 0, made.stderr.toString());
    const staff = await browser.newContext();
    const dash = await staff.newPage();
    await dash.goto(steward.url + 'admin/login');
    await dash.getByLabel('Email address').fill('ana@example.gov.uk');
    await dash.getByLabel('Password').fill('purple tractor umbrella');
    await dash.getByRole('button', { name: 'Sign in' }).click();
    await dash.waitForURL(/\/admin$/);
    await dash.getByRole('link', { name: 'Analytics' }).click();
    await dash.waitForURL(/\/admin\/analytics/);
    const headline = await dash.locator('.steward-headline').innerText();
    // On failure, the events' outcomes as Steward counted them (accepted, dropped and why, refused).
    const outcomes = (await (await fetch(steward.url + 'metrics')).text())
      .split('\n').filter((l) => l.startsWith('steward_analytics_events_total')).join('\n');
    assert.match(headline, /Unique visitors\s+1\b/, `${headline}\n${outcomes}`);
    assert.match(headline, /Pageviews\s+3\b/, `${headline}\n${outcomes}`);
    const pages = await dash.locator('#table-page').innerText();
    for (const p of ['/', '/privacy', '/cookies']) assert.ok(pages.includes(p), `${p} in top pages`);
    assert.match(await dash.locator('#table-event_property').innerText(), /Poll answer: answer = yes/);
    await shot(dash, 'analytics-1-dashboard');
    await staff.close();
  } finally {
    await browser.close();
    assert.equal(await steward.stop(), 0);
  }
});

// Plausible's own published tracker (npm @plausible-analytics/tracker) on a page of the site served
// from another origin than Steward's, sending to Steward's /api/event. Its fetch carries no cookies
// across origins, so: with the statistics exemption the pageviews count, as one visitor (the day's
// hash); in consent mode, where no choice can reach Steward that way, they are dropped. In both the
// send succeeds: no network error.
async function startSitePage() {
  const tracker = readFileSync(path.join(import.meta.dirname, 'node_modules/@plausible-analytics/tracker/plausible.js'));
  let endpoint = '';
  const server = createServer((req, res) => {
    if (req.url === '/plausible.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      return res.end(tracker);
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="en"><head><title>A page of the site</title></head>
<body><main><h1>A page of the site</h1></main>
<script type="module">
import { init, track } from '/plausible.js';
init({ domain: '127.0.0.1', endpoint: ${JSON.stringify(endpoint)}, autoCapturePageviews: false,
       captureOnLocalhost: true, logging: false });
window.sendPageview = () => new Promise((resolve) => track('pageview', {
  callback: (r) => resolve(r.error ? 'network error: ' + r.error : r.status) }));
window.trackerReady = true;
</script></body></html>`);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    setEndpoint(url) { endpoint = url; },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

for (const mode of ['statistics-exemption', 'consent']) {
  test(`Plausible's tracker on another origin (${mode})`, async () => {
    const site = await startSitePage();
    const steward = await startSteward('examples/demo.toml', {
      scriptOrigins: [site.origin],
      edit: (text) => text.replace(/^consent_mode = .*$/m, `consent_mode = "${mode}"`),
    });
    site.setEndpoint(steward.url + 'api/event');
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext({ userAgent });
      const page = await context.newPage();
      const dropped = [];
      // Pageviews only: the tracker also sends an engagement event for a page when the next begins.
      page.on('response', (r) => {
        if (r.url().endsWith('/api/event') && JSON.parse(r.request().postData()).n === 'pageview') {
          dropped.push(r.headers()['x-plausible-dropped'] ?? '');
        }
      });
      await page.goto(site.origin + '/');
      await page.waitForFunction(() => window.trackerReady === true);
      for (let i = 0; i < 3; ++i) {
        assert.equal(await page.evaluate(() => window.sendPageview()), 202, 'the send succeeds from another origin');
      }
      assert.deepEqual(dropped, mode === 'consent' ? ['1', '1', '1'] : ['', '', '']);
      await shot(page, `analytics-plausible-tracker-${mode}`);
      await context.close();
      const stats = spawnSync(binary, ['stats', '--config', steward.configPath, '--data', steward.data,
                                       '--period', 'day', '--format', 'json']);
      assert.equal(stats.status, 0, stats.stderr.toString());
      const report = JSON.parse(stats.stdout.toString());
      const headline = report.headline ?? report;
      if (mode === 'consent') {
        assert.equal(headline.pageviews, 0, stats.stdout.toString());
      } else {
        assert.equal(headline.pageviews, 3, stats.stdout.toString());
        assert.equal(headline.visitors, 1, 'one person, counted by the day\'s hash');
      }
    } finally {
      await browser.close();
      assert.equal(await steward.stop(), 0);
      await site.close();
    }
  });
}

// On every example that counts visits, in consent mode: a visitor who rejects analytics cookies is
// not counted, whatever the lawful basis of the analytics purpose (NLC Connect and Hantsweb rest it
// on public task); one who accepts is. The Civil Service site counts nobody (below).
for (const example of ['demo', 'hantsweb', 'nlc-connect', 'ons', 'national-careers']) {
  test(`${example}: a rejection stops analytics, an acceptance starts it`, async () => {
    const steward = await startSteward(`examples/${example}.toml`);
    const browser = await launchBrowser();
    try {
      for (const answer of ['no', 'yes']) {
        const context = await browser.newContext({ userAgent });
        const page = await context.newPage();
        const answers = [];
        page.on('response', (r) => {
          if (r.url().endsWith('/api/event')) answers.push(r.headers()['x-plausible-dropped'] ? 'dropped' : 'counted');
        });
        await page.goto(steward.url);
        await page.locator(`button[name="cookies[additional]"][value="${answer}"]`).click();
        await page.locator(`[data-steward-confirmation="${answer === 'yes' ? 'accepted' : 'rejected'}"]`).waitFor();
        await page.goto(steward.url + 'privacy');
        const state = await page.evaluate(() => fetch('/api/consent').then((r) => r.json()));
        if (answer === 'no') {
          await page.waitForTimeout(500);
          assert.equal(state.analytics_allowed, false, 'the state says no');
          assert.deepEqual(answers, [], 'the tracker sends nothing');
          // Nor does the server count an event sent by hand under the refusal.
          const sent = await page.evaluate(() => fetch('/api/event', {
            method: 'POST', headers: { 'Content-Type': 'text/plain' }, credentials: 'include',
            // The domain the site's own tracker names, so only the refusal can drop it.
            body: JSON.stringify({ n: 'pageview', u: location.href,
                                   d: document.querySelector('script[src$="steward.js"]').dataset.domain }),
          }).then((r) => r.headers.get('x-plausible-dropped')));
          assert.equal(sent, '1', 'an event sent anyway is dropped');
        } else {
          assert.equal(state.analytics_allowed, true, 'the state says yes');
          for (let i = 0; i < 100 && !answers.includes('counted'); ++i) await page.waitForTimeout(100);
          assert.ok(answers.includes('counted'), `a pageview is counted (${answers})`);
        }
        await context.close();
      }
    } finally {
      await browser.close();
      assert.equal(await steward.stop(), 0);
    }
  });
}

// The Civil Service site declares no analytics: there is nothing to accept, and nothing is counted.
test('civil-service: no analytics at all', async () => {
  const steward = await startSteward('examples/civil-service.toml');
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ userAgent });
    const page = await context.newPage();
    await page.goto(steward.url);
    assert.equal(await page.locator('[data-steward-cookie-banner]').count(), 0, 'no banner');
    const state = await page.evaluate(() => fetch('/api/consent').then((r) => r.json()));
    assert.equal(state.analytics_allowed, false);
    const sent = await page.evaluate(() => fetch('/api/event', {
      method: 'POST', headers: { 'Content-Type': 'text/plain' }, credentials: 'include',
      body: JSON.stringify({ n: 'pageview', u: location.href, d: location.hostname }),
    }).then((r) => ({ status: r.status, dropped: r.headers.get('x-plausible-dropped') })));
    assert.ok(sent.status === 404 || sent.dropped === '1', `an event is not counted (${JSON.stringify(sent)})`);
    await context.close();
  } finally {
    await browser.close();
    assert.equal(await steward.stop(), 0);
  }
});
