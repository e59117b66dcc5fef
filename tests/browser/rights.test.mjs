// Rights requests in Chromium on the National Careers example: a caseworker records a request that
// came by email, sees the form's errors, searches what the site holds, stops and restarts the clock
// for a clarification, extends the request with a reason and answers it; the DPO sees it answered
// on time. axe-core on every page and state.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { withMailSite, linkIn, launchBrowser, shot, axeViolations, signInStaff, binary, addStaff } from './steward.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser.close(); });


test('National Careers: a caseworker records, searches, pauses, extends and answers a request', async () => {
  await withMailSite('national-careers.toml', async (steward) => {
    addStaff(steward, 'worker@example.gov.uk', 'caseworker');
    addStaff(steward, 'dpo@example.gov.uk', 'dpo');
    const context = await browser.newContext();
    const page = await context.newPage();
    await signInStaff(page, steward, 'worker@example.gov.uk');
    await page.getByRole('link', { name: 'Rights requests', exact: true }).first().click();
    await page.waitForURL(/\/admin\/rights$/);
    assert.match(await page.locator('main').innerText(), /No request is open/);
    assert.deepEqual(await axeViolations(page), [], '/admin/rights, empty');
    await shot(page, 'rights-1-queue-empty');

    await page.getByRole('link', { name: 'Record a request' }).click();
    assert.deepEqual(await axeViolations(page), [], '/admin/rights/new');
    await page.getByRole('button', { name: 'Record the request' }).click();
    const summary = await page.locator('.govuk-error-summary').innerText();
    assert.match(summary, /Choose what the person asked for/);
    assert.match(summary, /Choose how the request came in/);
    assert.deepEqual(await axeViolations(page), [], '/admin/rights/new with errors');
    await shot(page, 'rights-2-new-errors');

    // By keyboard where a caseworker would: the boxes, then the fields.
    await page.getByLabel('See what we hold about you').check();
    await page.getByLabel('Delete what we hold about you').check();
    await page.getByLabel('Stop us using your data, but keep it').check();
    await page.getByLabel('By email').check();
    await page.getByLabel('Email address').fill('learner@example.com');
    await page.getByLabel('Postal address (optional)').fill('1 High Street\nCoventry\nCV1 1AA');
    await page.getByLabel('IP address or range').fill('203.0.113.7');
    await page.getByLabel('What is it about? (optional)').fill('Everything since my first appointment');
    await page.getByLabel('What is it about? (optional)').press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/admin\/rights\/\d+$/);
    assert.match(await page.locator('h1').innerText(), /^R-\d{6}$/);
    assert.match(await page.locator('.govuk-caption-l').innerText(), /Access, Erasure, Restriction/);
    assert.match(await page.locator('.govuk-summary-list').first().innerText(), /running/);
    assert.deepEqual(await axeViolations(page), [], 'the case');
    await shot(page, 'rights-3-case');

    await page.getByRole('button', { name: 'Search what we hold' }).click();
    assert.match(await page.locator('main').innerText(), /Nothing is held|record\(s\)/);
    assert.deepEqual(await axeViolations(page), [], 'the case, searched');

    // A day refused comes back as it was typed, its fields marked, and the summary's link lands
    // on the day's field; by keyboard.
    const caseUrl = page.url().match(/^.*\/admin\/rights\/\d+/)[0];
    await page.locator('#clock').fill('3');
    await page.locator('#clock-month').fill('2');
    await page.locator('#clock-year').fill('2099');
    await page.locator('#clock-year').press('Enter');
    assert.match(await page.locator('.govuk-error-summary').innerText(), /cannot be in the future/);
    for (const [id, value] of [['clock', '3'], ['clock-month', '2'], ['clock-year', '2099']]) {
      assert.equal(await page.locator('#' + id).inputValue(), value, id);
      assert.match(await page.locator('#' + id).getAttribute('class'), /govuk-input--error/, id);
    }
    assert.deepEqual(await axeViolations(page), [], 'the case, a day in the future');
    await page.locator('.govuk-error-summary a[href="#clock"]').focus();
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'clock');
    await page.goto(caseUrl);

    // Stopping the clock leads to the letter asking for the clarification, to fill in and send.
    await page.getByRole('button', { name: 'Clarification asked for: stop the clock' }).click();
    await page.waitForURL(/\/write\?letter=clarification$/);
    assert.deepEqual(await axeViolations(page), [], 'the clarification letter');
    await page.getByRole('button', { name: 'Send by email' }).click();
    assert.match(await page.locator('.govuk-error-summary').innerText(), /Replace the words in \[square brackets\]/);
    assert.deepEqual(await axeViolations(page), [], 'the clarification letter, not filled in');
    const draft = await page.getByLabel('What to say').inputValue();
    await page.getByLabel('What to say').fill(draft.replace('[What you need to know, and why]',
                                                            'Which of your two email addresses you used in 2025'));
    await page.getByRole('button', { name: 'Send by email' }).click();
    await page.waitForURL(/\/admin\/rights\/\d+\?sent=clarification$/);
    assert.match(await page.locator('.govuk-notification-banner').innerText(), /Ask for a clarification: emailed/);
    assert.match(await page.locator('.govuk-summary-list').first().innerText(), /waiting for a clarification/);
    assert.deepEqual(await axeViolations(page), [], 'the case, waiting');
    await shot(page, 'rights-4-waiting');
    await page.getByRole('button', { name: 'Clarification arrived: restart the clock' }).click();
    await page.waitForURL(/\/admin\/rights\/\d+$/);

    await page.getByRole('button', { name: 'Extend' }).click();
    assert.match(await page.locator('.govuk-error-summary').innerText(), /Enter why the request needs longer/);
    assert.deepEqual(await axeViolations(page), [], 'the case, extension without a reason');
    await page.getByLabel('Extend by two months').fill('Records in three systems going back eight years');
    await page.getByRole('button', { name: 'Extend' }).click();
    await page.waitForURL(/\/write\?letter=extension$/);
    assert.match(await page.getByLabel('What to say').inputValue(), /Records in three systems going back eight years/);
    await page.getByRole('button', { name: 'Print as a letter' }).click();
    assert.match(await page.locator('.steward-letter').innerText(), /We need more time for your request/);
    assert.deepEqual(await axeViolations(page), [], 'the extension letter, printed');
    await shot(page, 'rights-4a-letter');
    await page.getByRole('link', { name: /^R-\d{6}$/ }).click();
    await page.waitForURL(/\/admin\/rights\/\d+$/);
    assert.match(await page.locator('.govuk-summary-list').first().innerText(), /Extended by two months/);

    // Restricted while the request is worked, then erased.
    await page.getByRole('button', { name: "Restrict the person's data" }).click();
    await page.waitForURL(/\/admin\/rights\/\d+$/);
    assert.match(await page.locator('main').innerText(), /restricted: kept, not used/);
    assert.deepEqual(await axeViolations(page), [], 'the case, restricted');
    await page.getByRole('button', { name: 'Lift the restriction' }).click();
    assert.match(await page.locator('.govuk-error-summary').innerText(), /Confirm that the person has been told/);
    assert.deepEqual(await axeViolations(page), [], 'the case, lifting without telling');

    // Erasure needs its box ticked, then says what went and what the law keeps.
    await page.getByRole('button', { name: 'Erase', exact: true }).click();
    assert.match(await page.locator('.govuk-error-summary').innerText(), /Confirm that the search shows/);
    assert.deepEqual(await axeViolations(page), [], 'the case, erasure not confirmed');
    await page.getByLabel(/I have searched/).check();
    await page.getByRole('button', { name: 'Erase', exact: true }).click();
    assert.match(await page.locator('.govuk-notification-banner').innerText(), /erased or anonymised/);
    assert.deepEqual(await axeViolations(page), [], 'the case, erased');
    await shot(page, 'rights-4b-erased');

    await page.getByLabel('Answered').check();
    await page.getByLabel('What was done, or why it is refused').fill('Sent the copy; erased all but the audit trail');
    await page.getByRole('button', { name: 'Close the request' }).click();
    await page.waitForURL(/\/admin\/rights\/\d+$/);
    assert.match(await page.locator('.govuk-summary-list').first().innerText(), /Answered on .* \(on time\)/);
    assert.deepEqual(await axeViolations(page), [], 'the case, closed');
    await shot(page, 'rights-5-closed');
    await context.close();

    const dpo = await (await browser.newContext()).newPage();
    await signInStaff(dpo, steward, 'dpo@example.gov.uk');
    await dpo.goto(steward.url + 'admin/rights?show=closed');
    assert.match(await dpo.locator('table').first().innerText(), /Answered on .* \(on time\)/);
    assert.match(await dpo.locator('.govuk-summary-list').innerText(), /Answered on time\s+1/);
    assert.deepEqual(await axeViolations(dpo), [], '/admin/rights?show=closed');
    await shot(dpo, 'rights-6-dpo');
    await dpo.context().close();
  });
});

test('National Careers: a person asks online, with or without JavaScript, confirms by email and gets a reference', async () => {
  await withMailSite('national-careers.toml', async (steward, smtp) => {
    // Without JavaScript the form works as it does with it.
    const plain = await browser.newContext({ javaScriptEnabled: false });
    const nojs = await plain.newPage();
    await nojs.goto(steward.url + 'your-data');
    await nojs.getByLabel('See what we hold about you').check();
    await nojs.getByLabel('Your email address').fill('someone@example.com');
    await nojs.getByRole('button', { name: 'Send your request' }).click();
    assert.equal(await nojs.locator('h1').innerText(), 'Check your email');
    await smtp.waitFor(1);
    await plain.close();

    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(steward.url + 'privacy');
    await page.getByRole('link', { name: 'ask us online' }).click();
    await page.waitForURL(/\/your-data$/);
    assert.deepEqual(await axeViolations(page), [], '/your-data');
    await shot(page, 'your-data-1-form');

    await page.getByRole('button', { name: 'Send your request' }).click();
    const summary = await page.locator('.govuk-error-summary').innerText();
    assert.match(summary, /Choose what you would like us to do/);
    assert.match(summary, /Enter your email address/);
    assert.deepEqual(await axeViolations(page), [], '/your-data with errors');
    await shot(page, 'your-data-2-errors');

    await page.getByLabel('Get a copy of your data to take elsewhere').check();
    await page.getByLabel('Your email address').fill('learner@example.com');
    await page.getByLabel('Anything else that helps us (optional)').fill('My sessions with an adviser in 2026');
    await page.getByRole('button', { name: 'Send your request' }).click();
    assert.equal(await page.locator('h1').innerText(), 'Check your email');
    assert.deepEqual(await axeViolations(page), [], 'check your email');

    const message = (await smtp.waitFor(2))[1];
    assert.deepEqual(message.rcpt_tos, ['learner@example.com']);
    const link = linkIn(message, '/your-data/confirm/');
    assert.ok(link, 'the email holds the link');
    await page.goto(steward.url + link.slice(1));
    assert.match(await page.locator('.govuk-panel').innerText(), /We have your request[\s\S]*R-\d{6}/);
    assert.deepEqual(await axeViolations(page), [], 'the request received');
    await shot(page, 'your-data-3-received');

    await page.goto(steward.url + link.slice(1));
    assert.equal(await page.locator('h1').innerText(), 'This link has expired or is not right');
    assert.deepEqual(await axeViolations(page), [], 'a used link');
    const ack = (await smtp.waitFor(3))[2];
    assert.match(ack.parts[1].content, /Your reference is R-\d{6}/);
    await context.close();
  });
});

test('National Careers: the copy goes through a link only the person opens, with or without JavaScript', async () => {
  await withMailSite('national-careers.toml', async (steward, smtp) => {
    addStaff(steward, 'worker@example.gov.uk', 'caseworker');
    const context = await browser.newContext();
    const page = await context.newPage();
    await signInStaff(page, steward, 'worker@example.gov.uk');
    await page.goto(steward.url + 'admin/rights/new');
    await page.getByLabel('Get a copy of your data to take elsewhere').check();
    await page.getByLabel('By email').check();
    await page.getByLabel('Email address').fill('learner@example.com');
    await page.getByRole('button', { name: 'Record the request' }).click();
    await page.waitForURL(/\/admin\/rights\/\d+$/);
    await page.getByRole('link', { name: 'Send the copy', exact: true }).click();
    await page.waitForURL(/\/write\?letter=copy$/);
    assert.deepEqual(await axeViolations(page), [], 'the copy letter');
    await shot(page, 'rights-7-copy');
    await page.getByRole('button', { name: 'Send by email' }).click();
    assert.match(await page.locator('.govuk-error-summary').innerText(), /Confirm that you have read the copy/);
    assert.deepEqual(await axeViolations(page), [], 'the copy letter, not reviewed');
    await page.getByLabel(/I have read the copy/).check();
    await page.getByRole('button', { name: 'Send by email' }).click();
    await page.waitForURL(/\?sent=copy$/);
    await context.close();

    const message = (await smtp.waitFor(1))[0];
    assert.deepEqual(message.rcpt_tos, ['learner@example.com']);
    const link = linkIn(message, '/your-data/copy/');
    assert.ok(link, 'the email holds the link');

    // Without JavaScript: a wrong address is refused at its field.
    const plain = await browser.newContext({ javaScriptEnabled: false });
    const nojs = await plain.newPage();
    await nojs.goto(steward.url + link.slice(1));
    assert.equal(await nojs.locator('h1').innerText(), 'Download a copy of your data');
    await nojs.getByLabel('Email address').fill('someone@example.com');
    await nojs.getByRole('button', { name: 'Download' }).click();
    assert.match(await nojs.locator('.govuk-error-summary').innerText(), /Enter the email address you made your request from/);
    await plain.close();

    const person = await (await browser.newContext({ acceptDownloads: true })).newPage();
    await person.goto(steward.url + link.slice(1));
    assert.deepEqual(await axeViolations(person), [], 'the copy\'s page');
    await shot(person, 'your-data-4-copy');
    await person.getByLabel('Email address').fill('learner@example.com');
    const [download] = await Promise.all([person.waitForEvent('download'),
                                          person.getByRole('button', { name: 'Download' }).click()]);
    assert.match(download.suggestedFilename(), /^your-data-R-\d{6}\.zip$/);
    await person.context().close();
  });
});

test('National Careers: a correction and an objection from a case, by keyboard, with axe-core', async () => {
  await withMailSite('national-careers.toml', async (steward) => {
    addStaff(steward, 'worker@example.gov.uk', 'caseworker');
    const context = await browser.newContext();
    const page = await context.newPage();
    await signInStaff(page, steward, 'worker@example.gov.uk');
    await page.goto(steward.url + 'admin/rights/new');
    await page.getByLabel('Correct something we hold about you').check();
    await page.getByLabel('Object to how we use your data').check();
    await page.getByLabel('By telephone').check();
    await page.getByLabel('Email address').fill('learner@example.com');
    await page.getByRole('button', { name: 'Record the request' }).click();
    await page.waitForURL(/\/admin\/rights\/\d+$/);
    assert.deepEqual(await axeViolations(page), [], 'the case, with correction and objection');

    await page.getByRole('button', { name: 'Correct it' }).click();
    assert.match(await page.locator('.govuk-error-summary').innerText(), /Enter the correct/);
    assert.deepEqual(await axeViolations(page), [], 'a correction without a value');
    await page.getByLabel('What to correct').selectOption({ label: 'Telephone number' });
    await page.getByLabel('The correct value').fill('07700 900123');
    await page.getByLabel('The correct value').press('Enter');
    assert.match(await page.locator('.govuk-notification-banner').innerText(), /record\(s\) corrected/);
    assert.deepEqual(await axeViolations(page), [], 'the correction made');

    await page.getByRole('button', { name: 'Record the decision' }).click();
    assert.match(await page.locator('.govuk-error-summary').innerText(), /Choose whether the objection is upheld/);
    assert.deepEqual(await axeViolations(page), [], 'an objection without a decision');
    await shot(page, 'rights-8-objection');
    await context.close();
  });
});
