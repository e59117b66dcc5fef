// Citizen accounts in Chromium on the National Careers and NLC Connect examples, with a real SMTP
// server (Debian's aiosmtpd) receiving what Steward sends: registering without JavaScript, the
// confirmation from the received email, signing in, correcting details, withdrawing a consent,
// downloading and closing; an adviser creating an account for a customer by keyboard, recording a
// consent and handing it over; the age check refusing a child. Every page is checked by axe-core.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { withMailSite, linkIn, launchBrowser, shot, axeViolations, signInStaff, binary } from './steward.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

const kPassword = 'copper lantern harbour';

// The code an authenticator app shows now for a base32 key (RFC 6238: HMAC-SHA1, 30 s, 6 digits).
function totp(base32) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of base32.replace(/\s|=/g, '').toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const at = mac[19] & 15;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1000000).padStart(6, '0');
}
const surveys = /Contact me for customer satisfaction surveys/;
const equality = /Use my ethnicity and disability information/;

async function signIn(page, steward, email, password = kPassword) {
  await page.goto(steward.url + 'account/sign-in');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Your account', exact: true }).waitFor();
}

test('National Careers: register without JavaScript, confirm, correct, withdraw, download and close', async () => {
  await withMailSite('national-careers.toml', async (steward, smtp) => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    // axe-core needs JavaScript: the same server markup, read in a second context with it on.
    const checked = await browser.newContext();
    const axe = await checked.newPage();
    const check = async (what) => {
      await axe.goto(page.url());
      assert.deepEqual(await axeViolations(axe), [], what);
    };

    await page.goto(steward.url + 'account/register');
    assert.equal(await page.getByLabel(surveys).isChecked(), false, 'no optional consent is ticked for you');
    assert.equal(await page.getByLabel(equality).isChecked(), false);
    await check('register');
    await shot(page, 'account-register');
    // Errors first: nothing filled in.
    await page.getByRole('button', { name: 'Create account' }).click();
    const summary = await page.locator('.govuk-error-summary').innerText();
    assert.match(summary, /Enter your email address/);
    assert.match(summary, /Enter a password/);
    await axe.goto(steward.url + 'account/register');
    await axe.getByRole('button', { name: 'Create account' }).click();
    assert.deepEqual(await axeViolations(axe), [], 'register, with errors');
    await shot(page, 'account-register-errors');

    await page.getByLabel('Email address').fill('learner@example.com');
    await page.getByLabel('Create a password').fill(kPassword);
    await page.getByLabel('Full name').fill('Sam Learner');
    await page.getByLabel('Day').fill('14');
    await page.getByLabel('Month').fill('6');
    await page.getByLabel('Year').fill('1990');
    await page.getByLabel(surveys).check();
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    await check('check your email');
    const [confirmation] = await smtp.waitFor(1);
    assert.equal(confirmation.headers.Subject, 'Confirm your email address');
    const confirm = linkIn(confirmation, '/account/confirm/');
    assert.ok(confirm, confirmation.parts[1].content);
    await page.goto(steward.url + confirm.slice(1));
    await page.getByText('Your email address is confirmed').waitFor();
    await axe.goto(steward.url + 'account/sign-in');
    assert.deepEqual(await axeViolations(axe), [], 'sign in');
    await axe.goto(steward.url + confirm.slice(1));
    assert.deepEqual(await axeViolations(axe), [], 'a used confirmation link');

    // A wrong password is refused with a reason; the right one signs in.
    await page.getByLabel('Email address').fill('learner@example.com');
    await page.getByLabel('Password').fill('not the password at all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    assert.match(await page.locator('.govuk-error-summary').innerText(), /not right/);
    await page.getByLabel('Password').fill(kPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Your account', exact: true }).waitFor();
    const home = await page.locator('main').innerText();
    assert.match(home, /Sam Learner/);
    assert.match(home, /Agreed/);
    await shot(page, 'account-home');
    // The account's pages need the session: axe reads them signed in too.
    await signIn(axe, steward, 'learner@example.com');
    assert.deepEqual(await axeViolations(axe), [], '/account');

    // Rectification: the corrected name, recorded in the activity.
    await page.getByRole('link', { name: 'Change your details' }).click();
    await axe.goto(steward.url + 'account/details');
    assert.deepEqual(await axeViolations(axe), [], '/account/details');
    await page.getByLabel('Full name').fill('Samira Learner');
    await page.getByLabel('Telephone number (optional)').fill('07700 900123');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Your account', exact: true }).waitFor();
    assert.match(await page.locator('main').innerText(), /Samira Learner/);
    assert.match(await page.locator('table').innerText(), /Changed details/);

    // Withdrawing the survey consent is one button.
    await page.getByRole('button', { name: /^Withdraw/ }).click();
    await page.getByRole('heading', { name: 'Your account', exact: true }).waitFor();
    assert.doesNotMatch(await page.locator('.govuk-summary-card').first().innerText(), /\bAgreed\b/);
    await axe.goto(steward.url + 'account');
    assert.deepEqual(await axeViolations(axe), [], '/account after a withdrawal');

    // The download holds the person's data.
    const download = await page.request.get(steward.url + 'account/download?format=json');
    assert.equal(download.status(), 200);
    assert.match(download.headers()['content-disposition'], /attachment/);
    assert.match(await download.text(), /Samira Learner/);

    // Closing: what is kept, and for how long, said before the button.
    await page.getByRole('link', { name: 'Close your account' }).click();
    assert.match(await page.locator('main').innerText(), /We keep your full name for 6 years/);
    await axe.goto(steward.url + 'account/close');
    assert.deepEqual(await axeViolations(axe), [], '/account/close');
    await shot(page, 'account-close');
    await page.getByRole('button', { name: 'Close my account' }).click();
    await page.getByRole('heading', { name: /closed/ }).waitFor();
    await check('closed');
    const closed = (await smtp.waitFor(2))[1];
    assert.equal(closed.headers.Subject, 'Your account is closed');
    // Signed out, and the account cannot be signed in to.
    await page.goto(steward.url + 'account');
    await page.getByRole('heading', { name: 'Sign in to your account' }).waitFor();
    await page.getByLabel('Email address').fill('learner@example.com');
    await page.getByLabel('Password').fill(kPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    assert.match(await page.locator('.govuk-error-summary').innerText(), /not right/);

    await checked.close();
    await context.close();
  });
});

test('National Careers: an adviser creates an account by keyboard, records a consent and hands it over', async () => {
  await withMailSite('national-careers.toml', async (steward, smtp) => {
    execFileSync(binary, ['staff', 'add', '--config', steward.configPath, '--data', steward.data,
                          '--email', 'adviser@example.gov.uk', '--role', 'caseworker', '--password-stdin'],
                 { input: 'purple tractor umbrella\n' });
    const context = await browser.newContext();
    const page = await context.newPage();
    await signInStaff(page, steward, 'adviser@example.gov.uk');
    await page.getByRole('link', { name: 'Customers', exact: true }).first().click();
    await page.waitForURL(/\/admin\/customers$/);
    assert.deepEqual(await axeViolations(page), [], '/admin/customers');

    // By keyboard: the create form, filled field by field, and sent with Enter.
    await page.getByRole('link', { name: 'Create an account for a customer' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/admin\/customers\/new$/);
    assert.deepEqual(await axeViolations(page), [], '/admin/customers/new');
    await page.getByRole('button', { name: 'Create account' }).focus();
    await page.keyboard.press('Enter');
    assert.match(await page.locator('.govuk-error-summary').innerText(), /Say how the customer agreed/);
    assert.deepEqual(await axeViolations(page), [], '/admin/customers/new with errors');
    await page.getByLabel("Customer's email address").focus();
    await page.keyboard.type('caller@example.com');
    await page.getByLabel('Full name').focus();
    await page.keyboard.type('Alex Caller');
    await page.getByLabel('Day').focus();
    await page.keyboard.type('2');
    await page.keyboard.press('Tab');
    await page.keyboard.type('11');
    await page.keyboard.press('Tab');
    await page.keyboard.type('1985');
    await page.getByLabel('By telephone').focus();
    await page.keyboard.press('Space');
    await page.getByRole('button', { name: 'Create account' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Alex Caller' }).waitFor();
    assert.deepEqual(await axeViolations(page), [], '/admin/customers/{id}');
    await shot(page, 'admin-customer');

    // The customer agrees, on the phone, to equality monitoring and gives their ethnic group.
    const card = page.locator('.govuk-summary-card').filter({ hasText: equality });
    await card.getByLabel('White').check();
    await card.getByLabel('Telephone').check();
    await card.getByRole('button', { name: /Record the customer's consent/ }).click();
    await page.getByRole('heading', { name: 'Alex Caller' }).waitFor();
    // Special category data stays hidden until asked for, and asking is recorded.
    assert.doesNotMatch(await page.locator('main').innerText(), /\bWhite\b/);
    await page.getByRole('button', { name: 'Show it' }).click();
    await page.getByRole('heading', { name: 'Alex Caller' }).waitFor();
    assert.match(await page.locator('.govuk-summary-list').first().innerText(), /White/);
    assert.deepEqual(await axeViolations(page), [], '/admin/customers/{id} with special category shown');

    // Found again by email.
    await page.goto(steward.url + 'admin/customers');
    await page.getByLabel('Email address').fill('caller@example.com');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'Alex Caller' }).waitFor();
    assert.deepEqual(await axeViolations(page), [], '/admin/customers with results');
    await page.getByRole('link', { name: 'Alex Caller' }).click();

    // Hand over: the customer sets a password from the emailed link and sees what the adviser did.
    await page.getByRole('button', { name: 'Email the customer a link' }).click();
    await page.getByRole('heading', { name: 'Alex Caller' }).waitFor();
    const handover = (await smtp.waitFor(1)).find((m) => m.headers.Subject === 'Set a password for your account');
    assert.ok(handover);
    const link = linkIn(handover, '/account/password/');
    const customer = await (await browser.newContext()).newPage();
    await customer.goto(steward.url + link.slice(1));
    assert.deepEqual(await axeViolations(customer), [], '/account/password/{token}');
    await customer.getByLabel('Password').fill(kPassword);
    await customer.getByRole('button', { name: 'Save password' }).click();
    await customer.getByRole('heading', { name: 'Sign in to your account' }).waitFor();
    await signIn(customer, steward, 'caller@example.com');
    const activity = await customer.locator('table').innerText();
    assert.match(activity, /An adviser\s+Created the account for you/, 'what the adviser did is in the activity');
    assert.match(await customer.locator('main').innerText(), /White/);
    await shot(customer, 'account-after-hand-over');
    await customer.context().close();
    await context.close();
  });
});

test('NLC Connect: a person who says they are under 13 is refused, and nothing is kept', async () => {
  await withMailSite('nlc-connect.toml', async (steward, smtp) => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(steward.url + 'account/register');
    await page.getByLabel('Email address').fill('young@example.com');
    await page.getByLabel('Create a password').fill(kPassword);
    await page.getByLabel('No', { exact: true }).check();
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'You cannot create an account' }).waitFor();
    assert.match(await page.locator('main').innerText(), /13/);
    const checked = await browser.newContext();
    const axe = await checked.newPage();
    await axe.goto(steward.url + 'account/register');
    assert.deepEqual(await axeViolations(axe), [], 'NLC register, with the age question');
    await axe.getByLabel('No', { exact: true }).check();
    await axe.getByRole('button', { name: 'Create account' }).click();
    await axe.getByRole('heading', { name: 'You cannot create an account' }).waitFor();
    assert.deepEqual(await axeViolations(axe), [], 'too young');
    const counts = JSON.parse(execFileSync(binary, ['accounts', 'count', '--config', steward.configPath,
                                                    '--data', steward.data, '--format', 'json'], { encoding: 'utf8' }));
    assert.equal(JSON.stringify(counts).match(/[1-9]/), null, `no account of any kind: ${JSON.stringify(counts)}`);
    assert.equal(smtp.received().length, 0, 'and no email');
    await checked.close();
    await context.close();
  });
});

test('Demo: a forgotten password reset, the address changed, and security codes from an app, by keyboard', async () => {
  await withMailSite('demo.toml', async (steward, smtp) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const check = async (what) => assert.deepEqual(await axeViolations(page), [], what);
    // An account to forget the password of.
    await page.goto(steward.url + 'account/register');
    await page.getByLabel('Email address').fill('forgetful@example.com');
    await page.getByLabel('Create a password').fill(kPassword);
    await page.getByLabel('Full name').fill('Robin Forgetful');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.goto(steward.url + linkIn((await smtp.waitFor(1))[0], '/account/confirm/').slice(1));

    await page.goto(steward.url + 'account/sign-in');
    await page.getByRole('link', { name: 'Forgotten your password?' }).press('Enter');
    await page.getByRole('heading', { name: 'Reset your password' }).waitFor();
    await check('reset your password');
    await page.getByRole('button', { name: 'Send the link' }).press('Enter');
    assert.match(await page.locator('.govuk-error-summary').innerText(), /Enter your email address/);
    await check('reset your password, with errors');
    await page.getByLabel('Email address').fill('forgetful@example.com');
    await page.getByRole('button', { name: 'Send the link' }).press('Enter');
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    assert.match(await page.locator('main').innerText(), /If the address has an account/);
    await check('check your email, after a reset');
    await shot(page, 'account-password-reset-sent');

    const reset = (await smtp.waitFor(2))[1];
    assert.equal(reset.headers.Subject, 'Reset your password');
    await page.goto(steward.url + linkIn(reset, '/account/password/').slice(1));
    await check('choose a password');
    await page.getByLabel('Password').fill('violet paper compass');
    await page.getByRole('button', { name: 'Save password' }).press('Enter');
    await signIn(page, steward, 'forgetful@example.com', 'violet paper compass');
    assert.equal((await smtp.waitFor(3))[2].headers.Subject, 'Your password has changed');

    // Changing the address: the link goes to the new one, the old one is told.
    await page.getByRole('link', { name: 'your email address' }).press('Enter');
    await page.getByRole('heading', { name: 'Change your email address' }).waitFor();
    await check('change your email address');
    await page.getByRole('button', { name: 'Send the link' }).press('Enter');
    const errors = await page.locator('.govuk-error-summary').innerText();
    assert.match(errors, /Enter your new email address/);
    assert.match(errors, /Enter your password/);
    await check('change your email address, with errors');
    await page.getByLabel('New email address').fill('remembered@example.com');
    await page.getByLabel('Your password').fill('violet paper compass');
    await page.getByRole('button', { name: 'Send the link' }).press('Enter');
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    await check('check your email, after asking to change the address');
    const change = (await smtp.waitFor(4))[3];
    assert.deepEqual(change.rcpt_tos, ['remembered@example.com']);
    await page.goto(steward.url + linkIn(change, '/account/email/').slice(1));
    await page.getByText('Your account uses your new email address now').waitFor();
    await check('email address changed');
    assert.deepEqual((await smtp.waitFor(5))[4].rcpt_tos, ['forgetful@example.com']);
    await signIn(page, steward, 'remembered@example.com', 'violet paper compass');

    // Security codes from an app: set up, then asked for at the next sign-in; a recovery code works.
    await page.getByRole('link', { name: 'Security codes from an app' }).press('Enter');
    await check('security codes, off');
    await page.getByRole('button', { name: 'Set up an authenticator app' }).press('Enter');
    const key = await page.locator('code.steward-totp-secret').innerText();
    await check('security codes, the key to add');
    await page.getByLabel('Enter the 6-digit code the app shows').fill(totp(key));
    await page.getByRole('button', { name: 'Confirm' }).press('Enter');
    await page.getByText('Your second factor is set up').waitFor();
    const recovery = await page.locator('.steward-recovery-codes li').first().innerText();
    await check('security codes, the recovery codes');
    await page.goto(steward.url + 'account');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.goto(steward.url + 'account/sign-in');
    await page.getByLabel('Email address').fill('remembered@example.com');
    await page.getByLabel('Password').fill('violet paper compass');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Enter the code from your app' }).waitFor();
    await check('the code at sign-in');
    await page.goto(steward.url + 'account');
    await page.getByRole('heading', { name: 'Enter the code from your app' }).waitFor();  // not in yet
    await page.getByLabel('Security code').fill('000000');
    await page.getByRole('button', { name: 'Continue' }).press('Enter');
    assert.match(await page.locator('.govuk-error-summary').innerText(), /The code is not right/);
    await check('the code at sign-in, with errors');
    await page.getByLabel('Security code').fill(recovery);
    await page.getByRole('button', { name: 'Continue' }).press('Enter');
    await page.getByRole('heading', { name: 'Your account', exact: true }).waitFor();
    await page.goto(steward.url + 'account/security');
    await page.getByLabel('Your password').fill('violet paper compass');
    await page.getByRole('button', { name: 'Stop asking for codes' }).press('Enter');
    await page.getByRole('button', { name: 'Set up an authenticator app' }).waitFor();

    // Set up again, then the phone is lost: an adviser turns the codes off, and the person is told.
    await page.getByRole('button', { name: 'Set up an authenticator app' }).press('Enter');
    const second = await page.locator('code.steward-totp-secret').innerText();
    await page.getByLabel('Enter the 6-digit code the app shows').fill(totp(second));
    await page.getByRole('button', { name: 'Confirm' }).press('Enter');
    await page.getByText('Your second factor is set up').waitFor();
    execFileSync(binary, ['staff', 'add', '--config', steward.configPath, '--data', steward.data,
                          '--email', 'adviser@example.gov.uk', '--role', 'caseworker', '--password-stdin'],
                 { input: 'purple tractor umbrella\n' });
    const staff = await browser.newContext();
    const adviser = await staff.newPage();
    await signInStaff(adviser, steward, 'adviser@example.gov.uk');
    await adviser.goto(steward.url + 'admin/customers?email=remembered%40example.com');
    await adviser.getByRole('link', { name: /Robin Forgetful/ }).click();
    await adviser.getByRole('heading', { name: 'Security codes' }).waitFor();
    assert.deepEqual(await axeViolations(adviser), [], '/admin/customers/{id} with security codes on');
    await adviser.getByRole('button', { name: 'Turn off security codes' }).press('Enter');
    await adviser.getByText('Security codes are off').waitFor();
    assert.deepEqual(await axeViolations(adviser), [], '/admin/customers/{id} after turning codes off');
    const told = await smtp.waitFor(7);
    assert.equal(told[6].headers.Subject, 'Your account no longer asks for a security code');
    await staff.close();
    await context.close();
  });
});
