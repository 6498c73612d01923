// Journeys done with the keyboard alone in Debian's chromium: Tab to reach a control, type into
// it, Space to tick, Enter to submit or follow. Prints one JSON report on stdout.
//
//   node tests/browser/keyboard.cjs plan.json
//
// plan.json: {"base": "http://…", "outbox": "/abs/outbox", "campaign": "…",
//             "employee": {"id": "NIP", "email": "…", "name": "…"}, "admin": {"email": "…"}}
// Report:    {"employee": {"steps": [...], "pdf_bytes": n}, "admin": {"steps": [...], "unsigned_page": "…"},
//             "unseen_focus": ["selector on page", …]}   (controls reached without a visible focus)
//
// A step that cannot be reached by Tab throws, and the script exits 2 naming it.
'use strict';

const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const unseenFocus = [];

/// Presses Tab until the focused element matches `selector`; checks the focus can be seen.
async function tabTo(tab, selector, max = 80) {
  for (let i = 0; i < max; i++) {
    await tab.keyboard.press('Tab');
    const hit = await tab.evaluate(
      (sel) => !!document.activeElement && document.activeElement.matches(sel),
      selector,
    );
    if (hit) {
      const visible = await tab.evaluate(() => {
        const s = getComputedStyle(document.activeElement);
        const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
        return outline || s.boxShadow !== 'none';
      });
      if (!visible) unseenFocus.push(`${selector} on ${new URL(tab.url()).pathname}`);
      return;
    }
  }
  throw new Error(`Tab never reached ${selector} on ${tab.url()}`);
}

/// Enter on the focused control, waiting for the page it leads to.
async function enter(tab) {
  await Promise.all([tab.waitForNavigation({ waitUntil: 'load' }), tab.keyboard.press('Enter')]);
  return new URL(tab.url()).pathname;
}

/// The newest sign-in code mailed to `email` (the outbox holds .eml files). The node mails codes
/// from a background drain, milliseconds after it answers, so this polls up to a deadline.
async function codeFor(outbox, email) {
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    const letters = (fs.existsSync(outbox) ? fs.readdirSync(outbox) : [])
      .map((f) => path.join(outbox, f))
      .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
    for (const file of letters) {
      const text = fs.readFileSync(file, 'latin1');
      const at = text.indexOf('Kode masuk ikrar: ');
      if (text.includes(email) && at >= 0) {
        fs.unlinkSync(file);
        return text.slice(at + 18, at + 24);
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no sign-in code for ${email} in ${outbox} after 10 s`);
}

async function employeeJourney(browser, plan) {
  const context = await browser.newContext({ viewport: { width: 360, height: 800 }, acceptDownloads: true });
  const tab = await context.newPage();
  const steps = [];
  try {
    await tab.goto(`${plan.base}/masuk`, { waitUntil: 'load' });
    await tabTo(tab, 'input[name=id]');
    await tab.keyboard.type(plan.employee.id);
    steps.push(await enter(tab));
    const code = await codeFor(plan.outbox, plan.employee.email);
    await tabTo(tab, 'input[name=code]');
    await tab.keyboard.type(code);
    steps.push(await enter(tab));
    await tabTo(tab, `a[href="/pakta/${plan.campaign}"]`);
    steps.push(await enter(tab));
    // Every commitment ticked with Space, in the order Tab reaches them.
    for (;;) {
      const left = await tab.locator('input[type=checkbox]:not(:checked)').count();
      if (left === 0) break;
      await tabTo(tab, 'input[type=checkbox]:not(:checked)');
      await tab.keyboard.press('Space');
    }
    await tabTo(tab, 'input[name=full_name]');
    await tab.keyboard.type(plan.employee.name);
    steps.push(await enter(tab));
    await tabTo(tab, 'a[href$=".pdf"]');
    const pdf = tab.waitForResponse((r) => r.url().endsWith('.pdf'), { timeout: 15000 });
    const download = tab.waitForEvent('download', { timeout: 15000 }).catch(() => null);
    await tab.keyboard.press('Enter');
    const response = await pdf;
    const saved = await download;
    let bytes = 0;
    if (saved) {
      const file = await saved.path();
      bytes = file ? fs.statSync(file).size : 0;
    } else {
      bytes = (await response.body()).length;
    }
    steps.push(`${new URL(response.url()).pathname} ${response.status()} ${response.headers()['content-type']}`);
    return { steps, pdf_bytes: bytes };
  } finally {
    await context.close();
  }
}

async function adminJourney(browser, plan) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const tab = await context.newPage();
  const steps = [];
  try {
    await tab.goto(`${plan.base}/admin/masuk`, { waitUntil: 'load' });
    await tabTo(tab, 'input[name=email]');
    await tab.keyboard.type(plan.admin.email);
    steps.push(await enter(tab));
    const code = await codeFor(plan.outbox, plan.admin.email);
    await tabTo(tab, 'input[name=code]');
    await tab.keyboard.type(code);
    steps.push(await enter(tab));
    await tabTo(tab, `a[href^="/admin/kampanye/${plan.campaign}/belum"]`);
    steps.push(await enter(tab));
    const unsigned = await tab.evaluate(() => document.body.innerText);
    // A search by NIP, typed and sent with Enter: the list answers, the address has no NIP.
    await tabTo(tab, 'input[name=q]');
    await tab.keyboard.type(plan.admin.search);
    steps.push(await enter(tab));
    const searched = {
      url: tab.url(),
      text: await tab.evaluate(() => document.body.innerText),
      links: await tab.evaluate(() =>
        Array.from(document.querySelectorAll('a[href], form[action]')).map(
          (e) => e.getAttribute('href') || e.getAttribute('action'),
        ),
      ),
    };
    // Back to the home page by keyboard, then the public dashboard of the same campaign.
    await tabTo(tab, 'a[href="/admin"]');
    steps.push(await enter(tab));
    await tabTo(tab, `a[href="/cakupan/${plan.campaign}"]`);
    steps.push(await enter(tab));
    // A sort header of the dashboard, by keyboard: the sort state follows.
    await tabTo(tab, 'th[aria-sort] a[href*="urut=persen"]');
    steps.push(await enter(tab));
    const sorted = await tab.evaluate(() =>
      Array.from(document.querySelectorAll('th[aria-sort]')).map((th) => th.getAttribute('aria-sort')),
    );
    return { steps, unsigned_page: unsigned, searched, sort_state: sorted };
  } finally {
    await context.close();
  }
}

async function main() {
  const plan = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  try {
    const employee = await employeeJourney(browser, plan);
    const admin = await adminJourney(browser, plan);
    process.stdout.write(JSON.stringify({ employee, admin, unseen_focus: unseenFocus }, null, 1) + '\n');
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  process.stderr.write(`${path.basename(__filename)}: ${e.stack || e}\n`);
  process.exit(2);
});
