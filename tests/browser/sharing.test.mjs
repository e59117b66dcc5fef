// Sharing in Chromium on the National Careers example: an analyst reads a partner table and
// downloads it; a DPO records a police request, sees the form's errors, decides it and is told a
// second person must approve; a second DPO approves it; it is recorded as given; the DPO makes a
// partner's sealed file. axe-core on every
// page and state, by keyboard where the staff would.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { withMailSite, linkIn, launchBrowser, shot, axeViolations, signInStaff, binary, addStaff } from './steward.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser.close(); });


test('National Careers: partner statistics and a police request approved by a second DPO', async () => {
  await withMailSite('national-careers.toml', async (steward) => {
    addStaff(steward, 'analyst@example.gov.uk', 'analyst');
    addStaff(steward, 'dpo1@example.gov.uk', 'dpo');
    addStaff(steward, 'dpo2@example.gov.uk', 'dpo');

    // The analyst's tables.
    let context = await browser.newContext();
    let page = await context.newPage();
    await signInStaff(page, steward, 'analyst@example.gov.uk');
    await page.getByRole('link', { name: 'Statistics for partners' }).first().click();
    await page.waitForURL(/\/admin\/statistics$/);
    assert.match(await page.locator('main').innerText(), /the ONS 10-5 rule/);
    assert.deepEqual(await axeViolations(page), [], '/admin/statistics');
    await shot(page, 'sharing-1-statistics');
    await page.getByRole('link', { name: 'New accounts by how they came to us' }).click();
    await page.waitForURL(/\/admin\/statistics\/new-accounts-by-route$/);
    assert.match(await page.locator('caption').innerText(), /New accounts by how they came to us/);
    assert.deepEqual(await axeViolations(page), [], 'a table');
    // Fewer months, by keyboard.
    const options = await page.locator('#from option').allTextContents();
    await page.getByLabel('From').selectOption(options[options.length - 3]);
    await page.getByLabel('From').press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForURL(/from=/);
    assert.equal(await page.locator('#published tbody tr').count(), 3);
    assert.deepEqual(await axeViolations(page), [], 'a table, three months');
    await shot(page, 'sharing-2-table');
    const download = await page.request.get(steward.url + 'admin/statistics/new-accounts-by-route/csv');
    assert.equal(download.status(), 200);
    assert.match(await download.text(), /^period,category,count,rule/);
    await context.close();

    // The first DPO records and decides.
    context = await browser.newContext();
    page = await context.newPage();
    await signInStaff(page, steward, 'dpo1@example.gov.uk');
    await page.getByRole('link', { name: 'Disclosures', exact: true }).first().click();
    await page.waitForURL(/\/admin\/disclosures$/);
    assert.match(await page.locator('main').innerText(), /No request has been recorded/);
    assert.deepEqual(await axeViolations(page), [], '/admin/disclosures, empty');
    await page.getByRole('button', { name: 'Record a request' }).click();
    assert.deepEqual(await axeViolations(page), [], '/admin/disclosures/new');
    await page.getByRole('button', { name: 'Record the request' }).click();
    const summary = await page.locator('.govuk-error-summary').innerText();
    assert.match(summary, /Choose the basis/);
    assert.match(summary, /Enter whom the request is about/);
    assert.deepEqual(await axeViolations(page), [], '/admin/disclosures/new with errors');
    await shot(page, 'sharing-3-disclosure-errors');
    await page.getByLabel('Who asked?').fill('Metropolitan Police Service');
    await page.getByLabel('Their reference (optional)').fill('MPS/2026/1234');
    await page.getByLabel(/prevention or detection of crime/).check();
    await page.getByLabel('The order, the law or the offence').fill('Form DP2: an investigation of fraud');
    await page.getByLabel('Whom is it about?').fill('someone@example.org');
    await page.getByLabel('What did they ask for?').fill('Their contact details');
    await page.getByLabel('What did they ask for?').press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/admin\/disclosures\/\d+$/);
    assert.match(await page.locator('.govuk-caption-l').innerText(), /^D-\d{6}$/);
    assert.deepEqual(await axeViolations(page), [], 'a request, to decide');
    await page.getByLabel('Refuse').check();
    await page.getByLabel('Reasons').fill('Nothing is held about this person');
    await page.getByRole('button', { name: 'Ask for approval' }).click();
    await page.waitForURL(/\/admin\/disclosures\/\d+$/);
    assert.match(await page.locator('main').innerText(), /You made this decision: a second person/);
    assert.deepEqual(await axeViolations(page), [], 'a request, waiting for a second person');
    await shot(page, 'sharing-4-waiting');
    const request = page.url();
    // What each partner may be given; the sealed file downloads.
    await page.getByRole('link', { name: 'Sharing', exact: true }).first().click();
    await page.waitForURL(/\/admin\/sharing$/);
    assert.match(await page.locator('main').innerText(), /Market research organisations/);
    assert.deepEqual(await axeViolations(page), [], '/admin/sharing');
    await shot(page, 'sharing-6-partners');
    const [sealed] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: /Make the sealed file/ }).click(),
    ]);
    assert.match(sealed.suggestedFilename(), /^share-market-research-\d{4}-\d{2}-\d{2}\.sealed$/);
    await page.reload();
    assert.match(await page.locator('main').innerText(), /sealed-file/);
    assert.deepEqual(await axeViolations(page), [], '/admin/sharing after a share');
    await context.close();

    // The second DPO approves.
    context = await browser.newContext();
    page = await context.newPage();
    await signInStaff(page, steward, 'dpo2@example.gov.uk');
    await page.goto(request);
    assert.deepEqual(await axeViolations(page), [], 'a request, to approve');
    await page.getByRole('button', { name: 'Save' }).click();
    assert.match(await page.locator('.govuk-error-summary').innerText(), /Choose whether you approve/);
    assert.deepEqual(await axeViolations(page), [], 'approving, with an error');
    await page.getByLabel('Yes, approve it').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/\/admin\/disclosures\/\d+$/);
    assert.match(await page.locator('.govuk-tag').first().innerText(), /Refused/);
    assert.match(await page.locator('main').innerText(), /dpo2@example\.gov\.uk/);
    assert.deepEqual(await axeViolations(page), [], 'a request, closed');
    await shot(page, 'sharing-5-closed');
    await page.goto(steward.url + 'admin/disclosures');
    assert.deepEqual(await axeViolations(page), [], '/admin/disclosures');
    await context.close();
  });
});

test('National Careers: a change to the notice staged, published by the DPO, announced on every page', async () => {
  await withMailSite('national-careers.toml', async (steward) => {
    addStaff(steward, 'dpo@example.gov.uk', 'dpo');
    // The next site file, staged with the command while the old one is served.
    const fs = await import('node:fs');
    const next = steward.configPath + '.next.toml';
    fs.writeFileSync(next, fs.readFileSync(steward.configPath, 'utf8') +
      '\n[[register.purposes]]\nid = "outcomes-research"\n' +
      'description = "Research with universities into what careers advice leads to"\nlawful_basis = "public-task"\n');
    const staged = execFileSync(binary, ['notice', 'stage', '--config', next, '--data', steward.data]).toString();
    assert.match(staged, /\[affects people\] .*Research with universities/);

    const context = await browser.newContext();
    const page = await context.newPage();
    await signInStaff(page, steward, 'dpo@example.gov.uk');
    await page.getByRole('link', { name: 'Notice changes', exact: true }).first().click();
    await page.waitForURL(/\/admin\/notice$/);
    assert.match(await page.locator('main').innerText(), /Affects people/);
    assert.deepEqual(await axeViolations(page), [], '/admin/notice, staged');
    await shot(page, 'notice-1-staged');
    await page.getByLabel('Year').fill('2020');
    await page.getByRole('button', { name: 'Publish the change' }).click();
    assert.match(await page.locator('.govuk-error-summary').innerText(), /Enter today or a day to come/);
    assert.deepEqual(await axeViolations(page), [], '/admin/notice with an error');
    const year = new Date().getUTCFullYear() + 1;
    await page.getByLabel('Day').fill('4');
    await page.getByLabel('Month').fill('1');
    await page.getByLabel('Year').fill(String(year));
    await page.getByLabel('Year').press('Enter');
    await page.waitForURL(/\/admin\/notice$/);
    assert.match(await page.locator('.govuk-inset-text').innerText(), new RegExp(`takes effect on 4 January ${year}`));
    assert.deepEqual(await axeViolations(page), [], '/admin/notice, published');

    await page.goto(steward.url);
    const banner = page.locator('.govuk-notification-banner');
    assert.match(await banner.innerText(), new RegExp(`changing our privacy notice on 4 January ${year}`));
    assert.deepEqual(await axeViolations(page), [], 'the home page with the banner');
    await shot(page, 'notice-2-banner');
    await banner.getByRole('link', { name: 'Read what changes' }).click();
    await page.waitForURL(/\/privacy\/next$/);
    assert.match(await page.locator('main').innerText(), /Research with universities/);
    assert.deepEqual(await axeViolations(page), [], '/privacy/next');
    await shot(page, 'notice-3-next');
    await context.close();
    fs.unlinkSync(next);
  });
});

test('National Careers: a register with a new purpose on consent put in place; the DPO is warned and tells people; a customer is asked at sign-in', async () => {
  await withMailSite('national-careers.toml', async (steward, smtp) => {
    addStaff(steward, 'dpo@example.gov.uk', 'dpo');
    const context = await browser.newContext();
    const page = await context.newPage();
    // A customer registers under the register served now.
    await page.goto(steward.url + 'account/register');
    await page.getByLabel('Email address').fill('lee@example.org');
    await page.getByLabel('Create a password').fill('correct horse battery');
    await page.getByLabel('Full name').fill('Lee Learner');
    await page.getByLabel('Day').fill('14');
    await page.getByLabel('Month').fill('6');
    await page.getByLabel('Year').fill('1990');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    const [confirmation] = await smtp.waitFor(1);
    await page.goto(steward.url + linkIn(confirmation, '/account/confirm/').slice(1));
    await page.getByText('Your email address is confirmed').waitFor();

    // A new site file put in place without being published first: a newsletter on consent.
    await steward.restart((text) => text.replace('[register]\n', `[[accounts.consents]]
id = "newsletter"
label = "Send me the careers newsletter"
purpose = "newsletter"
dataset = "newsletter-consent"
withdrawal = "stop"

[register]
`) + `
[[register.purposes]]
id = "newsletter"
description = "Send you our careers newsletter, if you agreed"
lawful_basis = "consent"
withdraw = "Untick the box in your online account details"

[[register.datasets]]
id = "newsletter-consent"
module = "accounts"
description = "Whether you agreed to get the careers newsletter"
categories = ["user.preferences.consent"]
subjects = ["customers who agreed to the newsletter"]
purposes = ["newsletter"]
retention = "1 month after you withdraw consent or close your account"
`);

    // The customer signs in and is asked about the new purpose, once.
    await page.goto(steward.url + 'account/sign-in');
    await page.getByLabel('Email address').fill('lee@example.org');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/account\/new-consents$/);
    assert.match(await page.locator('main').innerText(), /Send me the careers newsletter/);
    assert.deepEqual(await axeViolations(page), [], '/account/new-consents');
    await shot(page, 'notice-4-asked');
    await page.getByRole('button', { name: 'Save my answers' }).click();
    assert.match(await page.locator('.govuk-error-summary').innerText(), /Choose yes or no/);
    assert.deepEqual(await axeViolations(page), [], '/account/new-consents with an error');
    await page.getByLabel('Yes').check();
    await page.getByRole('button', { name: 'Save my answers' }).click();
    await page.getByRole('heading', { name: 'Your account', exact: true }).waitFor();
    assert.match(await page.locator('main').innerText(), /agreed when asked after signing in/);
    await context.close();

    // The DPO is warned that the people affected were not told, and tells them now.
    const staff = await browser.newContext();
    const dpo = await staff.newPage();
    await signInStaff(dpo, steward, 'dpo@example.gov.uk');
    await dpo.goto(steward.url + 'admin/notice');
    assert.match(await dpo.locator('.govuk-warning-text').innerText(), /never published/);
    assert.deepEqual(await axeViolations(dpo), [], '/admin/notice, unannounced');
    await dpo.getByRole('button', { name: 'Publish the change' }).click();
    await dpo.waitForURL(/\/admin\/notice$/);
    const told = (await smtp.waitFor(2))[1];
    assert.equal(told.headers.Subject, 'Changes to how National Careers Service uses your personal data');
    assert.match(told.parts[1].content, /careers newsletter/);
    await dpo.goto(steward.url + 'privacy');
    assert.match(await dpo.locator('.govuk-notification-banner').innerText(), /We changed our privacy notice/);
    await staff.close();
  });
});
