// First-party analytics in Chromium on the ONS example: a visitor who accepts analytics cookies and
// clicks through the pages appears on the analyst's dashboard at once; one who rejects sends nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
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
    await page.getByRole('button', { name: 'Accept analytics cookies' }).click();
    await page.locator('[data-steward-confirmation="accepted"]').waitFor();
    await page.getByRole('link', { name: 'Read the privacy notice' }).click();
    await page.waitForURL(/\/privacy$/);
    await page.locator('footer').getByRole('link', { name: 'Cookies', exact: true }).click();
    await page.waitForURL(/\/cookies$/);
    await page.waitForFunction(() => performance.getEntriesByType('resource').some((e) => e.name.endsWith('/api/event')));
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
    assert.match(headline, /Unique visitors\s+1\b/, headline);
    assert.match(headline, /Pageviews\s+3\b/, headline);
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
