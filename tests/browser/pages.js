// Visits each page of a plan in Debian's chromium at a phone's and a laptop's width, runs axe-core
// in it and measures horizontal overflow; prints one JSON report on stdout.
//
//   node tests/browser/pages.js plan.json
//
// plan.json: {"pages": [{"name": "beranda", "url": "http://…/", "cookies": [{"name", "value", "url"}]}],
//             "widths": [360, 1280]}            (widths optional; the height is always 800)
// Report:    {"pages": [{"name", "url", "width", "status", "title", "overflow_px",
//                        "violations": [{"id", "impact", "help", "targets": [css selectors]}]}]}
// Only serious and critical violations are reported: the ones issue 19 requires to be zero.
//
// playwright-core drives the system browser (CHROMIUM, default /usr/bin/chromium); it never
// downloads one.
'use strict';

const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

async function visit(browser, page, width) {
  // The pages' CSP allows no inline script; axe is the test's, not the page's.
  const context = await browser.newContext({ viewport: { width, height: 800 }, bypassCSP: true });
  if (page.cookies && page.cookies.length) await context.addCookies(page.cookies);
  const tab = await context.newPage();
  try {
    const response = await tab.goto(page.url, { waitUntil: 'load', timeout: 30000 });
    await tab.addScriptTag({ content: axeSource });
    const result = await tab.evaluate(() =>
      // eslint-disable-next-line no-undef
      axe.run(document, { resultTypes: ['violations'] }),
    );
    const overflow = await tab.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    return {
      name: page.name,
      url: page.url,
      width,
      status: response ? response.status() : 0,
      title: await tab.title(),
      overflow_px: overflow,
      violations: result.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => ({
          id: v.id,
          impact: v.impact,
          help: v.help,
          targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
        })),
    };
  } finally {
    await context.close();
  }
}

async function main() {
  const plan = JSON.parse(fs.readFileSync(process.argv[2] || 0, 'utf8'));
  const widths = plan.widths || [360, 1280];
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const pages = [];
  try {
    for (const page of plan.pages) {
      for (const width of widths) pages.push(await visit(browser, page, width));
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify({ pages }, null, 1) + '\n');
}

main().catch((e) => {
  process.stderr.write(`${path.basename(__filename)}: ${e.stack || e}\n`);
  process.exit(2);
});
