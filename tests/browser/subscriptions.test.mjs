// Subscriptions in Chromium on the Hantsweb and Civil Service examples, with a real SMTP server
// (tests/mail/smtp_server.py, Debian's aiosmtpd) receiving what Steward sends: signing up without
// JavaScript and by keyboard, the confirmation from the received email, the subscriber's page, the
// unsubscribe page and its button, signing in with a username; every page checked by axe-core.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { withMailSite, linkIn, launchBrowser, shot, axeViolations, binary } from './steward.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

test('Hantsweb: sign up without JavaScript, confirm from the email, manage and unsubscribe', async () => {
  await withMailSite('hantsweb.toml', async (steward, smtp) => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(steward.url + 'subscriptions');
    await shot(page, 'subscriptions-form');
    // Errors first: nothing chosen.
    await page.getByRole('button', { name: 'Subscribe', exact: true }).click();
    const summary = await page.locator('.govuk-error-summary').innerText();
    assert.match(summary, /Enter your email address/);
    assert.match(summary, /Choose at least one topic/);
    await page.getByLabel('Roads and travel').check();
    await page.getByLabel('Once a day, in one email').check();
    await page.getByLabel('What is your email address?').fill('resident@example.com');
    await page.getByRole('button', { name: 'Subscribe', exact: true }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    const [confirmation] = await smtp.waitFor(1);
    assert.equal(confirmation.headers.Subject, 'Confirm your email subscription');
    const confirm = linkIn(confirmation, '/subscriptions/confirm/');
    assert.ok(confirm, confirmation.parts[1].content);
    await page.goto(steward.url + confirm.slice(1));
    await page.getByText('You have subscribed').waitFor();
    assert.ok(await page.getByLabel('Roads and travel').isChecked());
    assert.ok(await page.getByLabel('Once a day, in one email').isChecked());
    await shot(page, 'subscriptions-manage');
    // Add a topic from the subscriber's page.
    await page.getByLabel('Schools and term dates').check();
    await page.getByLabel('Once a week, in one email').check();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Your subscriptions are updated').waitFor();
    assert.ok(await page.getByLabel('Schools and term dates').isChecked());
    const manage = new URL(page.url()).pathname;

    // Every page passes axe-core (which needs JavaScript: the same server markup, read with it on).
    const checked = await browser.newContext();
    const axe = await checked.newPage();
    for (const target of ['subscriptions', manage.slice(1), 'subscriptions/confirm/c.1.1.0123456789abcdef0123456789abcdef']) {
      await axe.goto(steward.url + target);
      assert.deepEqual(await axeViolations(axe), [], target);
    }
    await axe.goto(steward.url + 'subscriptions');
    await axe.getByRole('button', { name: 'Subscribe', exact: true }).click();
    assert.deepEqual(await axeViolations(axe), [], 'the form with errors');

    await checked.close();
    await context.close();
  });
});

test('the unsubscribe link from an email shows a button, works by keyboard and passes axe-core', async () => {
  await withMailSite('hantsweb.toml', async (steward, smtp) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(steward.url + 'subscriptions');
    // By keyboard: the first topic, the default frequency, the address, then Enter.
    await page.getByLabel('Council news').focus();
    await page.keyboard.press('Space');
    await page.getByLabel('As soon as we publish something').focus();
    await page.keyboard.press('Space');
    await page.getByLabel('What is your email address?').focus();
    await page.keyboard.type('keyboard@example.com');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    assert.deepEqual(await axeViolations(page), [], 'check your email');
    const [confirmation] = await smtp.waitFor(1);
    await page.goto(steward.url + linkIn(confirmation, '/subscriptions/confirm/').slice(1));
    await page.getByText('You have subscribed').waitFor();
    // A CMS publishes to the topic with a key of scope "topics".
    const key = execFileSync(binary, ['apikey', 'create', '--config', steward.configPath, '--data', steward.data,
                                      '--name', 'Website CMS', '--scope', 'topics'], { encoding: 'utf8' }).trim();
    const published = await fetch(steward.url + 'api/topics/council-news/messages', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${key}` },
      body: JSON.stringify({ subject: 'Budget agreed', body: 'The budget for 2027 was agreed today.' }),
    });
    assert.equal(published.status, 202);
    const message = (await smtp.waitFor(2))[1];
    assert.equal(message.headers.Subject, 'Budget agreed');
    assert.equal(message.headers['List-Unsubscribe-Post'], 'List-Unsubscribe=One-Click');
    const link = message.headers['List-Unsubscribe'].match(/<(https?:[^>]+)>/)[1];
    // Opening the link (as a scanner would) changes nothing: it shows a button.
    await page.goto(link);
    await page.getByRole('heading', { name: 'Unsubscribe', exact: true }).waitFor();
    assert.match(await page.locator('main').innerText(), /Council news/);
    assert.deepEqual(await axeViolations(page), [], 'unsubscribe');
    await shot(page, 'subscriptions-unsubscribe');
    await page.getByRole('button', { name: 'Unsubscribe', exact: true }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'You have unsubscribed' }).waitFor();
    assert.deepEqual(await axeViolations(page), [], 'unsubscribed');
    // The link has done its work: it names no subscription now.
    await page.goto(link);
    await page.getByRole('heading', { name: 'This link has expired or is not right' }).waitFor();
    assert.deepEqual(await axeViolations(page), [], 'an old link');
    await context.close();
  });
});

test('Civil Service: a subscriber sets a username and password, then signs in with them', async () => {
  await withMailSite('civil-service.toml', async (steward, smtp) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(steward.url + 'subscriptions');
    await page.getByLabel('Civil Service jobs').check();
    await page.getByLabel('As soon as we publish something').check();
    await page.getByLabel('What is your email address?').fill('applicant@example.com');
    await page.getByRole('button', { name: 'Subscribe', exact: true }).click();
    const [confirmation] = await smtp.waitFor(1);
    await page.goto(steward.url + linkIn(confirmation, '/subscriptions/confirm/').slice(1));
    await page.getByLabel('Username').fill('applicant');
    await page.getByLabel('New password').fill('short');
    await page.getByRole('button', { name: 'Save username and password' }).click();
    assert.match(await page.locator('.govuk-error-summary').innerText(), /at least 12 characters/);
    assert.deepEqual(await axeViolations(page), [], 'the page with an error');
    await page.getByLabel('Username').fill('applicant');
    await page.getByLabel('New password').fill('a sensible long passphrase');
    await page.getByRole('button', { name: 'Save username and password' }).click();
    await page.getByText('Your username and password are set').waitFor();

    await page.goto(steward.url + 'subscriptions/sign-in');
    assert.deepEqual(await axeViolations(page), [], 'sign in');
    await page.getByLabel('Username').fill('applicant');
    await page.getByLabel('Password').fill('the wrong one entirely');
    await page.getByRole('button', { name: 'Sign in' }).click();
    assert.match(await page.locator('.govuk-error-summary').innerText(), /not right/);
    assert.deepEqual(await axeViolations(page), [], 'sign in, refused');
    await page.getByLabel('Password').fill('a sensible long passphrase');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Manage your subscriptions' }).waitFor();
    await page.getByLabel('Civil Service news').check();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Your subscriptions are updated').waitFor();
    assert.ok(await page.getByLabel('Civil Service news').isChecked());
    await shot(page, 'subscriptions-signed-in');

    // Unsubscribing from everything, from the page: the confirmation page passes axe-core.
    await page.getByRole('button', { name: 'Unsubscribe from all emails' }).click();
    await page.getByRole('heading', { name: 'You have unsubscribed' }).waitFor();
    assert.deepEqual(await axeViolations(page), [], 'unsubscribed');
    await context.close();
  });
});
