// The verification page as a phone shows it: for each case, the <h1> text, that it is on the
// first screen, that nothing positive is visible unless the verdict is ASLI, and axe-core's
// serious or critical violations. Run by tests/journeys/browser_verdicts.rs, once with the server
// up ("online") and once after it was stopped ("offline"), in the same browser profile so that
// the service worker and the kept issuer keys carry over.
//
// usage: node verdicts.cjs <online|offline> <cases.json> <profile dir> <screenshot dir>
// cases.json: [{"name": "...", "url": "...", "claim": true|false}]
// Prints one JSON line per case: {"name", "h1", "h1_bottom", "positive_visible", "violations"}.
"use strict";
const path = require("path");
const fs = require("fs");

const modules = process.env.IKRAR_TEST_NODE_MODULES;
const { chromium } = require(path.join(modules, "playwright-core"));
const axeSource = fs.readFileSync(path.join(modules, "axe-core", "axe.min.js"), "utf8");

const [phase, casesFile, profile, shots] = process.argv.slice(2);
const cases = JSON.parse(fs.readFileSync(casesFile, "utf8"));
const executablePath = process.env.IKRAR_TEST_CHROMIUM || "/usr/bin/chromium";

async function settled(page, withClaim) {
  await page.waitForLoadState("load");
  if (withClaim) {
    // The in-browser check ends with the server's answer, or with its absence.
    await page.waitForSelector("#hasil-server[data-status]", { state: "attached", timeout: 15000 });
  }
}

async function inspect(page, c) {
  return page.evaluate(() => {
    const h1 = document.querySelector("h1");
    const visible = (el) => {
      const r = el.getBoundingClientRect();
      const s = getComputedStyle(el);
      return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.display !== "none";
    };
    const positive = Array.from(document.querySelectorAll(".genuine, [data-positif]"))
      .filter(visible)
      .map((el) => el.textContent.trim());
    return {
      h1: h1 ? h1.textContent.trim() : null,
      h1_count: document.querySelectorAll("h1").length,
      h1_bottom: h1 ? h1.getBoundingClientRect().bottom : null,
      positive_visible: positive,
      lang: document.documentElement.lang,
    };
  });
}

async function axe(page) {
  // Evaluated through the debugging protocol, so the page's own script policy is left as it is.
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
}

(async () => {
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    viewport: { width: 360, height: 800 },
    locale: "id-ID",
    timezoneId: "Asia/Makassar",
  });
  const page = context.pages()[0] || (await context.newPage());
  page.on("console", (m) => console.error(`console ${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
  if (phase === "online") {
    // The first visit with signal keeps the page for later: wait for the service worker.
    const first = cases.find((c) => c.claim);
    await page.goto(first.url);
    await page.waitForSelector("html[data-luring=siap]", { timeout: 30000 });
    await settled(page, true);
  }
  for (const c of cases) {
    await page.setViewportSize({ width: 360, height: 800 });
    await page.goto(c.url).catch((e) => {
      console.error(`${c.name}: ${e.message}`);
    });
    await settled(page, c.claim);
    const seen = await inspect(page, c);
    await page.screenshot({ path: path.join(shots, `${phase}-${c.name}-360.png`) });
    seen.violations = await axe(page);
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.screenshot({ path: path.join(shots, `${phase}-${c.name}-1280.png`) });
    seen.violations = seen.violations.concat(await axe(page));
    seen.name = c.name;
    console.log(JSON.stringify(seen));
  }
  await context.close();
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
