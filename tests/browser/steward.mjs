// Starts and stops a real steward for browser tests, and launches Debian's Chromium.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export const sourceDir = process.env.STEWARD_SOURCE_DIR ?? path.resolve(import.meta.dirname, '../..');
export const binary = process.env.STEWARD_BINARY ?? path.join(sourceDir, 'build/test/src/app/steward');
export const screenshotDir = process.env.STEWARD_SCREENSHOTS ?? path.join(sourceDir, 'tests/browser/screenshots');

// Runs `steward serve` on a free port with a fresh data directory. Resolves when it prints its URL.
// `scriptOrigins`: origins of other pages that may use /steward.js (written into a copy of the config).
// `edit`: changes the copy's text (a function from text to text).
export async function startSteward(config = 'examples/demo.toml', { scriptOrigins = [], edit = null } = {}) {
  const data = mkdtempSync(path.join(tmpdir(), 'steward-browser-'));
  let configPath = path.join(sourceDir, config);
  if (scriptOrigins.length > 0 || edit) {
    let text = readFileSync(configPath, 'utf8')
      .replace(/^web_dir = .*$/m, `web_dir = ${JSON.stringify(path.join(sourceDir, 'web'))}`)
      .replace(/^\[site\]$/m, `[site]\nscript_origins = ${JSON.stringify(scriptOrigins)}`);
    if (edit) text = edit(text);
    configPath = path.join(data, 'steward.toml');
    writeFileSync(configPath, text);
  }
  // Serves the config; resolves with the address once it listens.
  const serve = () => {
    const child = spawn(binary, ['serve', '--config', configPath, '--data', data,
                                 '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    const ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`steward did not start:\n${err}`)), 30000);
      child.stdout.on('data', (d) => {
        out += d;
        const m = out.match(/at (http:\/\/127\.0\.0\.1:\d+\/)/);
        if (m && (out.includes('/admin/setup/') || out.includes('Stop: Ctrl-C\n'))) {
          setTimeout(() => { clearTimeout(timer); resolve(m[1]); }, 50);
        }
      });
      child.on('exit', (code) => reject(new Error(`steward exited with ${code}:\n${err}`)));
    });
    return { child, ready };
  };
  let out = '';
  let current = serve();
  const site = {
    url: await current.ready,
    data,
    configPath,
    output: () => out,
    setupLink: () => (out.match(/(http:\/\/\S+\/admin\/setup\/[0-9a-f]+)/) ?? [])[1],
    // Stops serving, lets `change` rewrite the site file (a new register put in place), and serves
    // the same data again; `url` is the new address.
    async restart(change) {
      const exited = new Promise((resolve) => current.child.on('exit', resolve));
      current.child.kill('SIGTERM');
      assert.equal(await exited, 0);
      if (change) {
        const text = readFileSync(configPath, 'utf8');
        // Never the example itself: a copy beside the data.
        if (!configPath.startsWith(data)) {
          configPath = path.join(data, 'steward.toml');
          site.configPath = configPath;
        }
        writeFileSync(configPath, change(text));
      }
      out = '';
      current = serve();
      site.url = await current.ready;
    },
    async stop() {
      const exited = new Promise((resolve) => current.child.on('exit', resolve));
      current.child.kill('SIGTERM');
      const code = await exited;
      rmSync(data, { recursive: true, force: true });
      return code;
    },
  };
  return site;
}

export async function launchBrowser() {
  mkdirSync(screenshotDir, { recursive: true });
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
           '--disable-sync', '--no-first-run'],
  });
}

export const shot = (page, name) => page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });

// Runs axe-core (npm) on the page for WCAG 2.0, 2.1 and 2.2 A and AA, and returns the violations
// as "rule: target" lines (empty when there are none).
const axeSource = readFileSync(path.join(import.meta.dirname, 'node_modules/axe-core/axe.min.js'), 'utf8');
export async function axeViolations(page) {
  // Evaluated rather than added as a script tag: the site's Content-Security-Policy forbids inline
  // scripts, and a page without JavaScript runs none of its own.
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
  }));
  return result.violations.flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')}`));
}

// Runs Debian's aiosmtpd as a real SMTP server (tests/mail/smtp_server.py), which writes each message
// it receives as JSON. Resolves when it listens.
export async function startSmtp() {
  const dir = mkdtempSync(path.join(tmpdir(), 'steward-smtp-'));
  const child = spawn('/usr/bin/python3', [path.join(sourceDir, 'tests/mail/smtp_server.py'), '--dir', dir],
                      { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/ready (\d+)/);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`the SMTP server exited with ${code}`)));
  });
  return {
    port,
    // The messages received so far, oldest first.
    received: () => readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
      .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8'))),
    async waitFor(n) {
      for (let i = 0; i < 200; i++) {
        const all = this.received();
        if (all.length >= n) return all;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`expected ${n} messages, got ${this.received().length}`);
    },
    stop() {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// The site path of the first link in a received message's text that starts with `prefix`.
export const linkIn = (message, prefix) => {
  const m = message.parts[1].content.match(new RegExp(`https?://\\S+(${prefix}[A-Za-z0-9.\\-]+)`));
  return m ? m[1] : null;
};

// Signs a member of staff in on `page`, added beforehand with `steward staff add`.
export async function signInStaff(page, steward, email, password = 'purple tractor umbrella') {
  await page.goto(steward.url + 'admin/login');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/admin$/);
}

// Runs `fn(steward, smtp)` on an example whose mail goes to a fresh SMTP server, and stops both.
export async function withMailSite(example, fn) {
  const smtp = await startSmtp();
  const steward = await startSteward(`examples/${example}`, {
    edit: (text) => text.replace(/relay = "smtp:\/\/127\.0\.0\.1:\d+"/, `relay = "smtp://127.0.0.1:${smtp.port}"`),
  });
  try {
    await fn(steward, smtp);
  } finally {
    assert.equal(await steward.stop(), 0);
    smtp.stop();
  }
}

// Adds a member of staff with `role` (a role's name, or a list of them) and the password signInStaff
// uses, through `steward staff add`.
export function addStaff(steward, email, role, password = 'purple tractor umbrella') {
  const roles = [role].flat().flatMap((r) => ['--role', r]);
  execFileSync(binary, ['staff', 'add', '--config', steward.configPath, '--data', steward.data,
                        '--email', email, ...roles, '--password-stdin'],
               { input: password + '\n' });
}
