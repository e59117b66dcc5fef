// Signing in with GOV.UK One Login in Chromium, on the demo with [accounts.oidc] naming a One
// Login look-alike (tests/browser/one-login.mjs, npm's oidc-provider): the button on the sign-in
// page by keyboard, the provider's login, the form a person new here fills in (with its errors),
// the account, signing out at both, and the page a failed sign-in shows. Every page of Steward's
// is checked by axe-core; the provider's own pages are not ours to check.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startSteward, launchBrowser, shot, axeViolations } from './steward.mjs';
import { startOneLogin } from './one-login.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

test('a person new here signs in with GOV.UK One Login, fills in the form, and signs out at both', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'steward-one-login-'));
  const keyFile = path.join(dir, 'one-login.pem');
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const op = await startOneLogin();
  const steward = await startSteward('examples/demo.toml', {
    edit: (text) => text
      .replace('sources = ["organisations that refer you to us"]',
               'sources = ["organisations that refer you to us", "GOV.UK One Login, when you sign in with it"]')
      .concat(`
[accounts.oidc]
issuer = "${op.issuer}"
client_id = "steward-test"
private_key_file = "${keyFile}"

[[register.cookies]]
name = "steward_signin"
provider = "This site"
category = "essential"
purpose = "Remembers your sign-in with GOV.UK One Login"
expiry = "session"
`),
  });
  const base = steward.url.replace(/\/$/, '');
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  const published = await (await fetch(`${base}/account/oidc/jwks.json`)).json();
  jwk.kid = published.keys[0].kid;
  op.register({ clientJwk: jwk, redirect: `${base}/account/sign-in/oidc/callback`,
                postLogout: `${base}/account/signed-out` });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const check = async (what) => assert.deepEqual(await axeViolations(page), [], what);

    await page.goto(`${base}/account/sign-in`);
    await check('sign-in, with One Login');
    await shot(page, 'one-login-sign-in');
    await page.getByRole('button', { name: 'Sign in with GOV.UK One Login' }).press('Enter');
    // The provider's login page (the package's own).
    await page.locator('input[name="login"]').fill('ada@example.com');
    await page.locator('input[name="password"]').fill('anything');
    await page.locator('button[type="submit"]').click();

    await page.getByRole('heading', { name: 'Finish creating your account' }).waitFor();
    assert.match(await page.locator('main').innerText(), /ada@example\.com/);
    assert.equal(await page.getByLabel('Password').count(), 0, 'no password is asked');
    await check('finish creating your account');
    await shot(page, 'one-login-finish');
    await page.getByRole('button', { name: 'Create account' }).click();
    assert.match(await page.locator('.govuk-error-summary').innerText(), /Enter your full name/);
    await check('finish creating your account, with errors');

    await page.getByLabel('Full name').fill('Ada Lovelace');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Your account', exact: true }).waitFor();
    assert.match(await page.locator('main').innerText(), /With GOV\.UK One Login, since/);
    await check('your account, signed in with One Login');
    await shot(page, 'one-login-account');

    await page.getByRole('button', { name: 'Sign out' }).click();
    // The provider asks whether to sign out there too.
    await page.locator('button[name="logout"][value="yes"]').click();
    await page.getByRole('heading', { name: 'You have signed out' }).waitFor();
    assert.match(await page.locator('main').innerText(), /and of GOV\.UK One Login on this device/);
    await check('signed out');
    await shot(page, 'one-login-signed-out');

    // A callback that is not this browser's sign-in.
    await page.goto(`${base}/account/sign-in/oidc/callback?code=x&state=y`);
    await page.getByRole('heading', { name: 'Your sign-in did not finish' }).waitFor();
    await check('a sign-in that did not finish');
    await context.close();
  } finally {
    assert.equal(await steward.stop(), 0);
    await op.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
