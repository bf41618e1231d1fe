// Opens the authrace explorer in headless Chromium, follows a property's
// counterexample link and checks what the page shows.
// Usage: node explorer.mjs URL PROPERTY SCREENSHOT
import { execFileSync } from "node:child_process";
import { chromium } from "playwright-core";

const [url, property, screenshot] = process.argv.slice(2);
if (!url || !property || !screenshot) {
  console.error("usage: node explorer.mjs URL PROPERTY SCREENSHOT");
  process.exit(2);
}

function chromiumPath() {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  for (const name of ["chromium", "chromium-browser"]) {
    try {
      return execFileSync("which", [name]).toString().trim();
    } catch {}
  }
  throw new Error("Chromium not found: install Debian's `chromium` (scripts/test.sh does)");
}

function fail(msg) {
  console.error("FAIL: " + msg);
  process.exitCode = 1;
}

const browser = await chromium.launch({
  executablePath: chromiumPath(),
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url);
  const cex = page.locator(`a.cex[data-property="${property}"]`);
  await cex.waitFor({ timeout: 10000 });
  if ((await cex.textContent()) !== "counterexample") fail("the property's link is not a counterexample");
  await cex.click();
  await page.waitForFunction(() => document.querySelectorAll("#steps li").length > 0);

  // The path: the query reaches the server, and no Authenticate did before it.
  const steps = await page.locator("#steps li").evaluateAll((lis) =>
    lis.map((li) => ({ actor: li.dataset.actor, text: li.textContent })));
  const toServer = steps.filter((s) => s.actor === "Client -> Server");
  const mqs = toServer.findIndex((s) => s.text.includes("ModifyQuerySet +listOrganizations"));
  const auth = toServer.findIndex((s) => s.text.includes("Authenticate"));
  if (mqs < 0) fail("no ModifyQuerySet reaches the server on the path: " + JSON.stringify(steps));
  if (auth >= 0 && auth < mqs) fail("an Authenticate reached the server before the ModifyQuerySet");
  if (!steps[steps.length - 1].text.includes("violates " + property)) fail("the last step is not the violation");

  // The sequence diagram shows the same: an arrow Client -> Server carrying
  // the ModifyQuerySet, before any Authenticate arrow, and the violation marked.
  const arrows = await page.locator("#diagram text.msg").evaluateAll((ts) =>
    ts.map((t) => ({ from: t.dataset.from, to: t.dataset.to, text: t.textContent })));
  const aMqs = arrows.findIndex((a) => a.from === "Client" && a.to === "Server" && a.text.includes("ModifyQuerySet +listOrganizations"));
  const aAuth = arrows.findIndex((a) => a.from === "Client" && a.to === "Server" && a.text.includes("Authenticate"));
  if (aMqs < 0) fail("the diagram has no ModifyQuerySet arrow to the server");
  if (aAuth >= 0 && aAuth < aMqs) fail("the diagram shows Authenticate before the ModifyQuerySet");
  if ((await page.locator(`#diagram rect[data-violates="${property}"]`).count()) !== 1) fail("the violation is not marked in the diagram");
  if (!(await page.locator("#violations").textContent()).includes(property)) fail("the state does not say the property is violated");

  // A malformed path answers 404 and the page says so, without breaking.
  const res = await page.request.get(new URL("/api/path/not/a/path", url).toString());
  if (res.status() !== 404) fail("a malformed path answered " + res.status());
  await page.goto(url + "#/99/99");
  await page.waitForFunction(() => document.getElementById("error").textContent.includes("No such path"));

  await page.goto(url + "#/" + (await cex.getAttribute("href")).replace(/^#\//, ""));
  await page.waitForFunction(() => document.querySelectorAll("#steps li").length > 0);
  await page.screenshot({ path: screenshot, fullPage: true });
  if (errors.length) fail("page errors: " + errors.join("; "));
} finally {
  await browser.close();
}
if (!process.exitCode) console.log("ok");
