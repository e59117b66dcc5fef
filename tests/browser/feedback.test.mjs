// Feedback in Chromium on the Civil Service example: "Is this page useful?" at the foot of a page,
// the problem report, the contact form with and without errors, the rating; with JavaScript and
// without, by keyboard, and every page checked by axe-core for WCAG 2.2 AA.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { startSteward, launchBrowser, shot, axeViolations, binary } from './steward.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

// A person takes a few seconds over a form; the form's timer counts them.
const human = (page) => page.waitForTimeout(3200);

async function withSteward(fn, { scriptOrigins = [] } = {}) {
  const steward = await startSteward('examples/civil-service.toml', {
    scriptOrigins,
    edit: (text) => text.replace(/^useful = true$/m, 'useful = true\nmin_seconds = 3'),
  });
  try {
    await fn(steward);
  } finally {
    assert.equal(await steward.stop(), 0);
  }
}

// axe-core runs in the page, so it checks the pages with JavaScript on; the markup is the server's
// either way, and the tests below use every form without JavaScript too.
test('every feedback page passes axe-core, its errors and its thank-you included', async () => {
  await withSteward(async (steward) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    for (const target of ['', 'privacy', 'feedback', 'feedback?kind=problem&page=/privacy', 'feedback?kind=rating']) {
      await page.goto(steward.url + target);
      assert.deepEqual(await axeViolations(page), [], `/${target}`);
    }
    await page.goto(steward.url + 'feedback');
    await page.getByRole('button', { name: 'Send' }).click();
    assert.match(await page.locator('.govuk-error-summary').innerText(), /Enter your message/);
    assert.deepEqual(await axeViolations(page), [], 'the form with errors');
    await shot(page, 'feedback-errors');
    // With JavaScript the answer goes without a reload, and the question says thank you.
    await page.goto(steward.url + 'privacy');
    await page.getByRole('button', { name: /^No/ }).click();
    await page.getByRole('status').filter({ hasText: 'Thank you for your feedback.' }).waitFor();
    assert.equal(page.url(), steward.url + 'privacy');
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('role')), 'status');
    assert.match(await page.getByRole('link', { name: 'Tell us what was wrong with this page' }).getAttribute('href'),
      /\/feedback\?kind=problem&page=%2Fprivacy$/);
    assert.deepEqual(await axeViolations(page), [], 'thank you, in the page');
    // The plain form's thank-you page, as a browser without JavaScript gets it (axe needs the
    // page's JavaScript, so the form is posted as the browser would post it).
    await page.goto(steward.url + 'privacy');
    await page.evaluate(() => {
      const form = document.querySelector('section.steward-feedback form');
      const field = Object.assign(document.createElement('input'), { type: 'hidden', name: 'useful', value: 'yes' });
      form.appendChild(field);
      HTMLFormElement.prototype.submit.call(form);
    });
    await page.locator('.govuk-panel__title').waitFor();
    assert.deepEqual(await axeViolations(page), [], 'thank you');
    await context.close();
    const plain = await browser.newContext({ javaScriptEnabled: false });
    const nojs = await plain.newPage();
    await nojs.goto(steward.url + 'privacy');
    await nojs.getByRole('button', { name: /^Yes/ }).click();
    await nojs.locator('.govuk-panel__title').waitFor();
    await plain.close();
  });
});

for (const javaScriptEnabled of [true, false]) {
  const how = javaScriptEnabled ? 'with JavaScript' : 'without JavaScript';

  test(`a problem report and a contact with permission to share, ${how}`, async () => {
    await withSteward(async (steward) => {
      const context = await browser.newContext({ javaScriptEnabled });
      const page = await context.newPage();
      await page.goto(steward.url + 'privacy');
      await page.getByRole('link', { name: 'Report a problem with this page' }).click();
      await page.waitForURL(/kind=problem/);
      await page.getByLabel('What were you doing?').fill('Reading about cookies');
      await page.getByLabel('What went wrong?').fill('A link was broken. Ring me on 020 7946 0000');
      await human(page);
      await page.getByRole('button', { name: 'Send' }).click();
      assert.match(await page.locator('.govuk-panel__title').innerText(), /Thank you for your feedback/);
      assert.match(await page.locator('main').innerText(), /We took out personal details/);
      await shot(page, `feedback-problem-sent-${javaScriptEnabled ? 'js' : 'nojs'}`);

      await page.goto(steward.url + 'feedback');
      await page.getByLabel('Your message').fill('Where can I find the jobs?');
      await page.getByLabel('Yes, reply to me by email').check();
      await page.getByLabel('Your name (only if you want a reply)').fill('Jo Bloggs');
      await page.getByLabel('Your email address (only if you want a reply)').fill('jo@example.org');
      await page.getByLabel(/You may share my feedback with/).check();
      await human(page);
      await page.getByRole('button', { name: 'Send' }).click();
      assert.match(await page.locator('main').innerText(), /We'll reply to the email address you gave us/);
      await context.close();
    });
  });
}

test('the contact form by keyboard alone', async () => {
  await withSteward(async (steward) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(steward.url + 'feedback?kind=rating');
    // Tab from the top of the page to the first rating, choose it, write, send: no mouse.
    let found = false;
    for (let i = 0; i < 40 && !found; i++) {
      await page.keyboard.press('Tab');
      found = await page.evaluate(() => document.activeElement?.name === 'rating');
    }
    assert.ok(found, 'the ratings can be reached by Tab');
    await page.keyboard.press('Space');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Quick and clear');
    await human(page);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.locator('.govuk-panel__title').waitFor();
    assert.match(await page.locator('.govuk-panel__title').innerText(), /Thank you/);
    await context.close();
  });
});

test('the caseworker finds an item, reads it, marks it done; every staff page passes axe-core', async () => {
  await withSteward(async (steward) => {
    // A caseworker, added from the command line beside the running server.
    execFileSync(binary, ['staff', 'add', '--config', steward.configPath, '--data', steward.data,
                          '--email', 'case@example.gov.uk', '--role', 'caseworker', '--password-stdin'],
                 { input: 'purple tractor umbrella\n' });
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(steward.url + 'feedback?kind=problem&page=/privacy');
    await page.getByLabel('What went wrong?').fill('The table of cookies is cut off on my phone');
    await human(page);
    await page.getByRole('button', { name: 'Send' }).click();
    await page.locator('.govuk-panel__title').waitFor();

    await page.goto(steward.url + 'admin/login');
    await page.getByLabel('Email address').fill('case@example.gov.uk');
    await page.getByLabel('Password').fill('purple tractor umbrella');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/admin$/);
    await page.getByRole('link', { name: 'Feedback', exact: true }).first().click();
    await page.waitForURL(/\/admin\/feedback$/);
    assert.match(await page.locator('table').first().innerText(), /problem/);
    assert.deepEqual(await axeViolations(page), [], '/admin/feedback');
    await shot(page, 'feedback-inbox');
    await page.locator('table a').first().click();
    assert.match(await page.locator('main').innerText(), /The table of cookies is cut off on my phone/);
    assert.deepEqual(await axeViolations(page), [], '/admin/feedback/{id}');
    await page.getByLabel('Done').check();
    await page.getByLabel('Assigned to').selectOption({ label: 'case@example.gov.uk (you)' });
    await page.getByLabel('Add a note (optional)').fill('Passed to the web team');
    await page.getByRole('button', { name: 'Save' }).click();
    assert.match(await page.locator('main').innerText(), /Assigned to\s+case@example\.gov\.uk \(you\)/);
    assert.match(await page.locator('main').innerText(), /Passed to the web team/);
    assert.equal(await page.getByLabel('Done').isChecked(), true);
    assert.deepEqual(await axeViolations(page), [], '/admin/feedback/{id} with a note');
    await shot(page, 'feedback-item');

    await context.close();
  });
});

test("the question on the site's own page, served from another port, through /steward.js", async () => {
  let stewardUrl = '';
  const other = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!DOCTYPE html><html lang="en" class="govuk-template"><head><title>Jobs – Civil Service</title>
      <link rel="stylesheet" href="${stewardUrl}static/govuk/govuk-frontend.min.css"></head>
      <body class="govuk-template__body"><main class="govuk-width-container"><h1 class="govuk-heading-xl">Jobs</h1>
      <p class="govuk-body">A page the site renders itself.</p><div data-steward-feedback></div></main>
      <script src="${stewardUrl}steward.js" defer></script></body></html>`);
  });
  await new Promise((resolve) => other.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${other.address().port}`;
  try {
    await withSteward(async (steward) => {
      stewardUrl = steward.url;
      execFileSync(binary, ['staff', 'add', '--config', steward.configPath, '--data', steward.data,
                            '--email', 'case@example.gov.uk', '--role', 'caseworker', '--password-stdin'],
                   { input: 'purple tractor umbrella\n' });
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(origin + '/jobs');
      await page.getByRole('heading', { name: 'Is this page useful?' }).waitFor();
      assert.deepEqual(await axeViolations(page), [], 'the question on another origin');
      await page.getByRole('button', { name: /^No/ }).focus();
      await page.keyboard.press('Enter');
      await page.getByRole('status').filter({ hasText: 'Thank you for your feedback.' }).waitFor();
      assert.equal(page.url(), origin + '/jobs');
      await page.getByRole('link', { name: 'Tell us what was wrong with this page' }).click();
      await page.waitForURL(steward.url + 'feedback?kind=problem&page=%2Fjobs');
      // The caseworker sees the answer counted for the page.
      await page.goto(steward.url + 'admin/login');
      await page.getByLabel('Email address').fill('case@example.gov.uk');
      await page.getByLabel('Password').fill('purple tractor umbrella');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(/\/admin$/);
      await page.goto(steward.url + 'admin/feedback');
      await page.getByRole('link', { name: 'Is this page useful? The answers per page' }).click();
      await page.waitForURL(/\/admin\/feedback\/usefulness$/);
      assert.deepEqual(await axeViolations(page), [], '/admin/feedback/usefulness');
      const row = page.locator('tr', { hasText: '/jobs' });
      assert.match(await row.innerText(), /\/jobs\s+0\s+1\s+0%/);
      await context.close();
    }, { scriptOrigins: [origin] });
  } finally {
    other.close();
  }
});

test('on the ONS example a direct message is in the same inbox, opened by keyboard', async () => {
  const steward = await startSteward('examples/ons.toml');
  try {
    execFileSync(binary, ['staff', 'add', '--config', steward.configPath, '--data', steward.data,
                          '--email', 'case@example.gov.uk', '--role', 'caseworker', '--password-stdin'],
                 { input: 'purple tractor umbrella\n' });
    const key = execFileSync(binary, ['apikey', 'create', '--config', steward.configPath, '--data', steward.data,
                                      '--name', 'Social media tool', '--scope', 'messages']).toString().trim();
    const posted = await fetch(steward.url + 'api/messages', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + key },
      body: JSON.stringify({ channel: 'x', handle: '@someone', text: 'When is the next GDP release?',
                             time: new Date().toISOString() }),
    });
    assert.equal(posted.status, 202);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(steward.url + 'admin/login');
    await page.getByLabel('Email address').fill('case@example.gov.uk');
    await page.getByLabel('Password').fill('purple tractor umbrella');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/admin$/);
    await page.goto(steward.url + 'admin/feedback?kind=message');
    assert.match(await page.locator('table').first().innerText(), /message \(x\)/);
    assert.deepEqual(await axeViolations(page), [], '/admin/feedback?kind=message');
    await page.locator('table a').first().focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/admin\/feedback\/messages\/\d+$/);
    assert.match(await page.locator('main').innerText(), /When is the next GDP release\?/);
    assert.match(await page.locator('main').innerText(), /@someone/);
    assert.deepEqual(await axeViolations(page), [], '/admin/feedback/messages/{id}');
    await shot(page, 'feedback-message');
    await context.close();
  } finally {
    assert.equal(await steward.stop(), 0);
  }
});

test('on the ONS example the vulnerability disclosure policy passes axe-core, with or without JavaScript', async () => {
  const steward = await startSteward('examples/ons.toml');
  try {
    const plain = await browser.newContext({ javaScriptEnabled: false });
    const nojs = await plain.newPage();
    await nojs.goto(steward.url + 'vulnerability-disclosure');
    assert.equal(await nojs.locator('h1').innerText(), 'Report a security vulnerability');
    await plain.close();
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(steward.url + 'vulnerability-disclosure');
    assert.match(await page.locator('.govuk-summary-list').innerText(), /gov\.uk\/help\/report-vulnerability/);
    assert.deepEqual(await axeViolations(page), [], '/vulnerability-disclosure');
    await shot(page, 'vulnerability-disclosure');
    await page.getByRole('link', { name: 'security.txt' }).click();
    assert.match(await page.locator('body').innerText(), /^Contact: https:\/\/www\.gov\.uk\/help\/report-vulnerability$/m);
    await context.close();
  } finally {
    assert.equal(await steward.stop(), 0);
  }
});
