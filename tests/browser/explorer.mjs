// Opens the authrace explorer in headless Chromium and checks what the page
// shows: counterexample and witness links, the sequence diagram (nothing
// cut), violations kept along the path, changed state, messages in flight,
// a liveness counterexample's continuation, bad URLs, stale links, and
// trace export and import.
//
// Usage: node explorer.mjs SEED_URL LIVENESS_URL AUTHRACE_BIN SCREENSHOT_DIR
//   SEED_URL      an explorer on models/seed-better-auth-ungated.toml
//   LIVENESS_URL  an explorer on models/reports/convex-auth-178-reauth-after-expiry.toml
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [seedUrl, liveUrl, bin, shots] = process.argv.slice(2);
if (!seedUrl || !liveUrl || !bin || !shots) {
  console.error("usage: node explorer.mjs SEED_URL LIVENESS_URL AUTHRACE_BIN SCREENSHOT_DIR");
  process.exit(2);
}
const SEED = "models/seed-better-auth-ungated.toml";
// How long a wait may take before the test gives up (a bound for a hang on
// a loaded machine, not a timing requirement).
const T = 30000;
const LIVE = "models/reports/convex-auth-178-reauth-after-expiry.toml";
const ROOT = new URL("../..", import.meta.url).pathname;

function chromiumPath() {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  for (const name of ["chromium", "chromium-browser"]) {
    try {
      return execFileSync("which", [name]).toString().trim();
    } catch {}
  }
  throw new Error("Chromium not found: install Debian's `chromium` (scripts/test.sh does)");
}

let failures = 0;
function fail(msg) {
  console.error("FAIL: " + msg);
  failures += 1;
}
function check(cond, msg) {
  if (!cond) fail(msg);
}
function authrace(...args) {
  try {
    return execFileSync(bin, args, { cwd: ROOT, maxBuffer: 64 << 20 }).toString();
  } catch (e) {
    // `check` exits 1 when something is violated; its output is still the report.
    if (e.stdout) return e.stdout.toString();
    throw e;
  }
}
// The page's own link of a property (as /api/info describes it).
function linkOf(p) {
  return "/" + (p.link ? "#/" + p.link.path.join("/") : "");
}

async function waitForSteps(page, n) {
  await page.waitForFunction((n) => document.querySelectorAll("#steps li").length === n, n, { timeout: T });
}
// Waits until the page shows `path` (an array of action indices).
async function waitForPath(page, path) {
  await page.waitForFunction((p) => document.body.dataset.path === p, path.join("/"), { timeout: T });
}
// Opens `url` and waits until the page has drawn the path its hash names.
async function goto(page, url) {
  await page.goto(url);
  await page.waitForFunction(() => document.querySelector("#properties li"), null, { timeout: T });
  const hash = new URL(url).hash.replace(/^#\/?/, "").split("?")[0];
  await page.waitForFunction((h) => document.body.dataset.path === h || document.body.dataset.path === "!error",
    /^[0-9/]*$/.test(hash) ? hash.replace(/\/$/, "") : "!error", { timeout: T });
}
async function propertyLink(page, id) {
  const a = page.locator(`a.cex[data-property="${id}"]`);
  await a.waitFor({ timeout: T });
  return a;
}
async function steps(page) {
  return page.locator("#steps li").evaluateAll((lis) => lis.map((li) => ({
    step: Number(li.dataset.step), actor: li.dataset.actor, text: li.textContent, cls: li.className,
  })));
}

// Everything drawn in the diagram lies inside it, every event's full text is
// there (wrapped, never shortened), and notes stay in their actor's column
// (a violation takes its actor's column and the next one inwards).
async function diagramIsWhole(page, what) {
  const r = await page.evaluate(() => {
    const box = document.getElementById("diagram");
    const svg = box.querySelector("svg");
    const W = Number(svg.getAttribute("width")), H = Number(svg.getAttribute("height"));
    const out = { W, H, boxW: box.clientWidth, scrollW: box.scrollWidth, outside: [], mismatched: [], spill: [], ellipsis: 0, events: 0 };
    const life = Object.fromEntries([...svg.querySelectorAll("line.lifeline")].map((l) => [l.dataset.actor, Number(l.getAttribute("x1"))]));
    for (const t of svg.querySelectorAll("text")) {
      const b = t.getBBox();
      if (b.x < 0 || b.y < 0 || b.x + b.width > W + 0.5 || b.y + b.height > H + 0.5) out.outside.push(t.textContent.slice(0, 80));
      if (t.textContent.includes("…")) out.ellipsis += 1;
      if (t.dataset.full !== undefined) {
        out.events += 1;
        if (t.textContent !== t.dataset.full) out.mismatched.push([t.textContent, t.dataset.full]);
      }
      // A note over one actor stays in that actor's column: it does not reach the next lifeline.
      if (t.classList.contains("note") && t.dataset.from === t.dataset.to && !t.dataset.violates) {
        const order = ["Provider", "React", "Client", "Server"];
        const i = order.indexOf(t.dataset.from);
        const next = order[i + 1], prev = order[i - 1];
        if (next && b.x + b.width >= life[next]) out.spill.push(t.textContent.slice(0, 80));
        if (prev && b.x <= life[prev]) out.spill.push(t.textContent.slice(0, 80));
      }
    }
    return out;
  });
  check(r.events > 0, `${what}: the diagram has no events`);
  check(r.W <= r.boxW && r.scrollW <= r.boxW, `${what}: the diagram (${r.W}px) is wider than its panel (${r.boxW}px)`);
  check(r.outside.length === 0, `${what}: text outside the diagram: ${JSON.stringify(r.outside)}`);
  check(r.mismatched.length === 0, `${what}: event text shortened: ${JSON.stringify(r.mismatched.slice(0, 2))}`);
  check(r.spill.length === 0, `${what}: notes run into a neighbouring lifeline: ${JSON.stringify(r.spill)}`);
  check(r.ellipsis === 0, `${what}: the diagram shortens text with …`);
  return r;
}

// Waits until the diagram has been drawn for its panel's current width.
async function redrawn(page) {
  await page.waitForFunction(() => {
    const box = document.getElementById("diagram");
    const svg = box.querySelector("svg");
    return svg && Number(svg.getAttribute("width")) === Math.max(320, Math.floor(box.clientWidth));
  }, null, { timeout: T });
}

const browser = await chromium.launch({
  executablePath: chromiumPath(),
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.setDefaultTimeout(T);
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const info = await (await page.request.get(new URL("/api/info", seedUrl).toString())).json();

  // --- the counterexample of query-runs-authenticated ----------------------
  const property = "query-runs-authenticated";
  await goto(page, seedUrl);
  const cex = await propertyLink(page, property);
  check((await cex.textContent()) === "counterexample", "the property's link is not a counterexample");
  check((await cex.getAttribute("href")).includes("h=" + info.hash), "the link does not carry the scenario hash");
  await cex.click();
  const cexPath = info.properties.find((p) => p.id === property).path;
  await waitForPath(page, cexPath);
  let st = await steps(page);
  const toServer = st.filter((s) => s.actor === "Client -> Server");
  const mqs = toServer.findIndex((s) => s.text.includes("ModifyQuerySet +listOrganizations"));
  const auth = toServer.findIndex((s) => s.text.includes("Authenticate"));
  check(mqs >= 0, "no ModifyQuerySet reaches the server on the path: " + JSON.stringify(st));
  check(!(auth >= 0 && auth < mqs), "an Authenticate reached the server before the ModifyQuerySet");
  const lastStep = st[st.length - 1];
  check(lastStep.text.includes("violates " + property), "the last step is not the violation");
  check(lastStep.cls.includes("violating"), "the violating step is not marked in the path");

  // The sequence diagram shows the same, with nothing cut.
  const arrows = await page.locator("#diagram text.msg").evaluateAll((ts) =>
    ts.map((t) => ({ from: t.dataset.from, to: t.dataset.to, text: t.textContent })));
  const aMqs = arrows.findIndex((a) => a.from === "Client" && a.to === "Server" && a.text.includes("ModifyQuerySet +listOrganizations"));
  const aAuth = arrows.findIndex((a) => a.from === "Client" && a.to === "Server" && a.text.includes("Authenticate"));
  check(aMqs >= 0, "the diagram has no ModifyQuerySet arrow to the server");
  check(!(aAuth >= 0 && aAuth < aMqs), "the diagram shows Authenticate before the ModifyQuerySet");
  check((await page.locator(`#diagram rect[data-violates="${property}"]`).count()) === 1, "the violation is not marked in the diagram");
  const vnote = page.locator(`#diagram text[data-violates="${property}"]`);
  check((await vnote.count()) === 1, "no violation note in the diagram");
  const vtext = await vnote.textContent();
  check(vtext.includes("violates " + property) && vtext.includes("with no identity"), "the violation note is not whole: " + vtext);
  await diagramIsWhole(page, "seed counterexample");
  check((await page.locator("#violations").textContent()).includes(property + " at step " + cexPath.length),
    "the state does not say where the property was violated");

  // Narrower windows: the diagram still fits and nothing is cut.
  await page.setViewportSize({ width: 1000, height: 900 });
  await redrawn(page);
  await diagramIsWhole(page, "seed counterexample at 1000 px");
  await page.setViewportSize({ width: 1400, height: 1000 });
  await redrawn(page);
  await page.screenshot({ path: join(shots, "explorer-seed-counterexample.png"), fullPage: true });

  // --- past the violation: still "violated on this path", the step marked --
  const next = page.locator("#actions a").first();
  await next.click();
  await waitForSteps(page, cexPath.length + 1);
  const pv = page.locator(`#violations a.pv[data-property="${property}"]`);
  check((await pv.count()) === 1, "'violated on this path' disappeared past the violating step");
  check((await pv.getAttribute("data-step")) === String(cexPath.length), "the violation is not tied to its step");
  st = await steps(page);
  check(st[cexPath.length - 1].cls.includes("violating") && !st[cexPath.length].cls.includes("violating"),
    "past the violation, the violating step is not the one marked");
  check((await page.locator(`#diagram rect[data-violates="${property}"]`).count()) === 1, "the diagram lost the violation past its step");

  // --- changed state per actor ------------------------------------------
  // Step 1 is React's first commit: React's state changes, the provider's does not.
  await goto(page, seedUrl + "#/" + cexPath.slice(0, 1).join("/") + "?h=" + info.hash);
  await waitForSteps(page, 1);
  st = await steps(page);
  check(st[0].actor === "React", "step 1 is not React's: " + JSON.stringify(st[0]));
  check((await page.locator('#actors tr[data-actor="React"] mark.chg').count()) > 0, "React's changed state is not highlighted");
  check((await page.locator('#actors tr[data-actor="React"].changed').count()) === 1, "React's row is not marked changed");
  check((await page.locator('#actors tr[data-actor="Provider"] mark.chg').count()) === 0, "the provider's unchanged state is highlighted");
  // The initial state highlights nothing.
  await goto(page, seedUrl + "#/?h=" + info.hash);
  await waitForSteps(page, 0);
  check((await page.locator("#actors mark.chg").count()) === 0, "the initial state highlights changes");

  // --- messages in flight, in order --------------------------------------
  // Somewhere on the counterexample several frames wait on the socket to the
  // server: the list shows them oldest first, and the server then receives
  // them in that order.
  const fullSteps = (await (await page.request.get(new URL("/api/path/" + cexPath.join("/"), seedUrl).toString())).json()).steps;
  let seen = false;
  for (let k = 0; k <= cexPath.length && !seen; k++) {
    const v = await (await page.request.get(new URL("/api/path/" + cexPath.slice(0, k).join("/"), seedUrl).toString())).json();
    const up = v.in_flight.find((c) => c.from === "Client" && c.to === "Server" && c.messages.length >= 2);
    if (!up) continue;
    seen = true;
    await goto(page, seedUrl + "#/" + cexPath.slice(0, k).join("/") + "?h=" + info.hash);
    await waitForSteps(page, k);
    const shown = await page.locator(`#inflight .channel[data-from="Client"][data-to="Server"][data-conn="${up.conn}"] li`).allTextContents();
    check(JSON.stringify(shown) === JSON.stringify(up.messages), `the page lists ${JSON.stringify(shown)}, the state has ${JSON.stringify(up.messages)}`);
    const received = fullSteps.slice(k).filter((s) => s.actor === "Client -> Server").map((s) => s.action);
    const delivered = up.messages.filter((m) => received.some((r) => r.startsWith(m)));
    let last = -1;
    for (const m of delivered) {
      const at = received.findIndex((r, i) => i > last && r.startsWith(m));
      check(at > last, `the server does not receive ${m} in the listed order: ${JSON.stringify(received)}`);
      last = at;
    }
    check(delivered.length >= 2, "the listed frames are not delivered later on the path");
    const down = await page.locator('#inflight .channel[data-from="Server"][data-to="Client"]').count();
    check(down >= 1, "the server -> client direction is not listed");
  }
  check(seen, "no state on the counterexample has two frames in flight to the server");

  // --- a witness for a property that holds ------------------------------
  const holds = info.properties.find((p) => p.verdict === "holds" && p.link);
  check(holds && holds.link.kind === "witness", "no witness link for a property that holds");
  if (holds) {
    await goto(page, seedUrl);
    const w = await propertyLink(page, holds.id);
    check((await w.textContent()) === "witness", "the link of a property that holds is not called a witness");
    await w.click();
    await waitForPath(page, holds.link.path);
    check((await page.locator("#linkinfo").textContent()).includes("witness"), "the page does not say it shows a witness");
    check((await page.locator("#violations a.pv").count()) === 0, "a witness path shows a violation");
  }

  // --- bad URLs: a clear page with a way back --------------------------
  const res = await page.request.get(new URL("/api/path/not/a/path", seedUrl).toString());
  check(res.status() === 404, "a malformed path answered " + res.status());
  await goto(page, seedUrl + "#/" + cexPath[0] + "/99?h=" + info.hash);
  await page.waitForFunction(() => document.body.classList.contains("broken"));
  const errText = await page.locator("#errorpage").textContent();
  check(errText.includes("No such path") && errText.includes("step 2 chooses action 99"), "the error page does not say what is wrong: " + errText);
  check(!(await page.locator("main").isVisible()), "the empty panels still show under the error");
  check(await page.locator("#errorpage").isVisible(), "the error page is not visible");
  await page.screenshot({ path: join(shots, "explorer-bad-path.png") });
  await page.locator("#back-prefix").click();
  await waitForPath(page, [cexPath[0]]);
  check(!(await page.locator("#errorpage").isVisible()), "the error page stays after following its link");
  await goto(page, seedUrl + "#/abc");
  await page.waitForFunction(() => document.body.classList.contains("broken"));
  check((await page.locator("#error").textContent()).includes("not an action number"), "a malformed path is not explained");
  await page.locator("#back-start").click();
  await waitForPath(page, []);
  check(await page.locator("main").isVisible(), "the link back does not bring the explorer back");
  const missing = await page.goto(new URL("/no/such/page", seedUrl).toString());
  check(missing.status() === 404, "an unknown page answered " + missing.status());
  check((await page.locator("#notfound").textContent()) === "Not found", "an unknown page is not a clear page");
  await page.locator("#home").click();
  await page.waitForFunction(() => document.querySelector("#properties li"));

  // --- a link made for another version of the scenario -----------------
  await goto(page, seedUrl + "#/" + cexPath.slice(0, 2).join("/") + "?h=0000000000000000");
  await waitForSteps(page, 2);
  const notice = page.locator("#notice #stale");
  check(await notice.isVisible(), "no notice for a link whose scenario hash differs");
  const nt = await notice.textContent();
  check(nt.includes("0000000000000000") && nt.includes(info.hash), "the notice does not name both hashes: " + nt);
  await goto(page, seedUrl + "#/" + cexPath.slice(0, 2).join("/") + "?h=" + info.hash);
  await waitForSteps(page, 2);
  check(!(await page.locator("#notice").isVisible()), "a notice for a link whose hash matches");

  // --- export: the JSON `authrace trace --format json` prints ----------
  const cli = JSON.parse(authrace("trace", SEED, "--property", property, "--format", "json"));
  await goto(page, seedUrl);
  await (await propertyLink(page, property)).click();
  await waitForPath(page, cexPath);
  const exportHref = await page.locator("#export").getAttribute("href");
  const exported = await (await page.request.get(new URL(exportHref, seedUrl).toString())).json();
  check(JSON.stringify(exported.steps) === JSON.stringify(cli.steps), "the exported steps differ from `authrace trace --format json`");
  for (const k of ["scenario", "property", "verdict", "kind"]) {
    check(JSON.stringify(exported[k]) === JSON.stringify(cli[k]), `the exported ${k} is ${JSON.stringify(exported[k])}, the CLI says ${JSON.stringify(cli[k])}`);
  }
  check(exported.hash === info.hash, "the export does not carry the scenario hash");

  // --- import: a counterexample from CI opens in the UI -----------------
  // The CLI's trace of another property, pasted; then a check report, as a file.
  const tmp = mkdtempSync(join(tmpdir(), "authrace-explorer-"));
  await goto(page, seedUrl + "#/?h=" + info.hash);
  await waitForSteps(page, 0);
  await page.locator("#import-text").fill(JSON.stringify(cli));
  await page.locator("#import-go").click();
  await waitForPath(page, cexPath);
  check(page.url().includes("#/" + cexPath.join("/") + "?"), "the imported trace opens another path: " + page.url());
  check(page.url().includes("p=" + property), "the imported trace's property is not followed");
  const reportFile = join(tmp, "report.json");
  writeFileSync(reportFile, authrace("check", SEED, "--format", "json"));
  await goto(page, seedUrl + "#/?h=" + info.hash);
  await waitForSteps(page, 0);
  await page.locator("#import-property").selectOption(property);
  await page.locator("#import-file").setInputFiles(reportFile);
  await waitForPath(page, cexPath);
  check(page.url().includes("#/" + cexPath.join("/") + "?"), "the imported report opens another path: " + page.url());
  // A trace of another scenario is refused with a reason, and the page stays.
  await page.locator("#import-text").fill(authrace("trace", LIVE, "--property", "stable-auth", "--format", "json"));
  await page.locator("#import-property").selectOption("");
  await page.locator("#import-go").click();
  await page.waitForFunction(() => document.getElementById("import-error").textContent.includes("Cannot import"));
  check((await page.locator("#import-error").textContent()).includes("matches no enabled action"), "a foreign trace's refusal does not say why");
  await page.locator("#import-text").fill("{not json");
  await page.locator("#import-go").click();
  await page.waitForFunction(() => document.getElementById("import-error").textContent.includes("not JSON"));

  // --- a liveness counterexample: the fault-free continuation -------------
  const liveInfo = await (await page.request.get(new URL("/api/info", liveUrl).toString())).json();
  const ea = liveInfo.properties.find((p) => p.id === "eventually-authenticated");
  check(ea.verdict === "violated" && ea.link && ea.link.then_from, "the liveness scenario has no counterexample with a continuation");
  const text = authrace("trace", LIVE, "--property", "eventually-authenticated");
  const thenLines = text.split("\n").filter((l) => /^\s*\d+\.\s+\(then\)/.test(l)).length;
  await goto(page, liveUrl);
  await (await propertyLink(page, "eventually-authenticated")).click();
  await waitForPath(page, ea.link.path);
  st = await steps(page);
  const marked = st.filter((s) => s.cls.includes("then"));
  check(marked.length === thenLines && thenLines > 0, `${marked.length} steps marked (then), the CLI marks ${thenLines}`);
  check(marked.every((s) => s.text.startsWith("(then)")), "the continuation steps do not say (then)");
  check(st.findIndex((s) => s.cls.includes("then")) === ea.link.then_from - 1, "the continuation starts at the wrong step");
  check((await page.locator(`#diagram [data-then-start="${ea.link.then_from}"]`).count()) === 1, "the diagram does not mark where the continuation starts");
  check((await page.locator("#diagram text[data-then]").count()) > 0, "the diagram does not mark the continuation's events");
  await diagramIsWhole(page, "liveness counterexample");
  // The marks cover the marked trace only: steps taken past its end are not
  // part of the continuation (here a seed path marked (then) from step 2 to 3).
  await goto(page, seedUrl + "#/" + cexPath.join("/") + "?h=" + info.hash + "&then=2&end=3");
  check((await page.locator("#steps li.then").count()) === 2, "the marked steps are not steps 2 to 3");
  await page.locator("#actions a").first().click();
  await waitForSteps(page, cexPath.length + 1);
  check((await page.locator("#steps li.then").count()) === 2, "a step past the marked trace is marked (then)");
  // Every other trace of that scenario draws whole too.
  for (const p of liveInfo.properties.filter((p) => p.link && p.id !== "eventually-authenticated")) {
    await goto(page, new URL(linkOf(p), liveUrl).toString());
    await diagramIsWhole(page, `${p.id} ${p.link.kind}`);
  }
  await goto(page, liveUrl);
  await (await propertyLink(page, "eventually-authenticated")).click();
  await waitForPath(page, ea.link.path);
  await page.screenshot({ path: join(shots, "explorer-liveness-continuation.png"), fullPage: true });
  // Its CLI trace imports to the same path with the same marks.
  const liveFile = join(tmp, "live.json");
  writeFileSync(liveFile, authrace("trace", LIVE, "--property", "eventually-authenticated", "--format", "json"));
  await goto(page, liveUrl + "#/?h=" + liveInfo.hash);
  await waitForSteps(page, 0);
  await page.locator("#import-file").setInputFiles(liveFile);
  await waitForPath(page, ea.link.path);
  check(page.url().includes("#/" + ea.link.path.join("/") + "?"), "the imported liveness trace opens another path");
  check(page.url().includes("then=" + ea.link.then_from), "the imported liveness trace loses its continuation");
  check((await page.locator("#steps li.then").count()) === thenLines, "the imported trace's continuation is not marked");

  if (errors.length) fail("page errors: " + errors.join("; "));
} finally {
  await browser.close();
}
if (failures) process.exit(1);
console.log("ok");
