// A person sets up the first administrator, signs in, adds an analyst and signs out, in Chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSteward, launchBrowser, shot } from './steward.mjs';

test('the first administrator signs in, reaches the staff pages and adds an analyst', async () => {
  const steward = await startSteward();
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    const link = steward.setupLink();
    assert.ok(link, 'serve prints a first-administrator link on an empty site');

    await page.goto(link);
    assert.equal(await page.locator('h1').innerText(), 'Set up the first administrator');
    await page.getByLabel('Your email address').fill('boss@example.gov.uk');
    await page.getByLabel('Password', { exact: true }).fill('purple tractor umbrella');
    await page.getByLabel('Confirm password').fill('purple tractor umbrella');
    await shot(page, 'admin-1-setup');
    await page.getByRole('button', { name: 'Save password' }).click();

    await page.waitForURL(/\/admin\/login\?setup=1/);
    assert.match(await page.locator('.govuk-notification-banner').innerText(), /Your password is saved/);
    await page.getByLabel('Email address').fill('boss@example.gov.uk');
    await page.getByLabel('Password').fill('a wrong password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    assert.match(await page.locator('.govuk-error-summary').innerText(), /Enter a correct email address and password/);
    await shot(page, 'admin-2-sign-in-error');

    await page.getByLabel('Password').fill('purple tractor umbrella');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/admin$/);
    assert.equal(await page.locator('h1').innerText(), 'Staff pages');
    assert.match(await page.locator('.steward-account-bar').innerText(), /Signed in as boss@example.gov.uk/);
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'steward_staff');
    assert.ok(session?.httpOnly, 'the session cookie is HttpOnly');
    assert.equal(session?.sameSite, 'Strict');
    await shot(page, 'admin-3-home');

    await page.getByRole('link', { name: 'Staff', exact: true }).click();
    await page.getByLabel('Email address').fill('ana@example.gov.uk');
    await page.getByLabel('Analyst').check();
    await page.getByRole('button', { name: 'Add staff member' }).click();
    assert.match(await page.locator('.govuk-panel').innerText(), /Staff member added/);
    const added = await page.locator('.steward-setup-link').innerText();
    assert.match(added, /\/admin\/setup\/[0-9a-f]{48}$/);
    assert.ok(added.startsWith(steward.url.replace(/\/$/, '')), 'the link uses the address actually bound');
    await shot(page, 'admin-4-staff-added');

    await page.getByRole('link', { name: 'Audit trail' }).click();
    const trail = await page.locator('table').innerText();
    for (const action of ['staff.created', 'staff.password_set', 'staff.signin', 'staff.setup_link_issued']) {
      assert.match(trail, new RegExp(action.replace('.', '\\.')), `${action} is in the audit trail`);
    }
    assert.doesNotMatch(trail, /ana@example/, 'the trail holds ids, not email addresses');
    await shot(page, 'admin-5-audit');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/signed_out=1/);
    await page.goto(new URL('/admin', steward.url).href);
    await page.waitForURL(/\/admin\/login/);
  } finally {
    await browser.close();
    assert.equal(await steward.stop(), 0, 'steward stops cleanly');
  }
});

test('keyboard only: a person can sign in without a mouse', async () => {
  const steward = await startSteward();
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.goto(steward.setupLink());
    await page.getByLabel('Your email address').fill('keys@example.gov.uk');
    await page.getByLabel('Password', { exact: true }).fill('orange kettle mountain');
    await page.getByLabel('Confirm password').fill('orange kettle mountain');
    await page.keyboard.press('Enter');
    await page.waitForURL(/setup=1/);
    // GOV.UK Frontend moves focus to the success banner; on a plain page the skip link comes first.
    assert.match(await page.evaluate(() => document.activeElement?.className ?? ''), /govuk-notification-banner/);
    await page.goto(new URL('/admin/login', steward.url).href);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), 'Skip to main content');
    await page.getByLabel('Email address').focus();
    await page.keyboard.type('keys@example.gov.uk');
    await page.keyboard.press('Tab');
    await page.keyboard.type('orange kettle mountain');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/admin$/);
    assert.equal(await page.locator('h1').innerText(), 'Staff pages');
  } finally {
    await browser.close();
    await steward.stop();
  }
});
