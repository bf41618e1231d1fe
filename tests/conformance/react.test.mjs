// Tests of the React-layer harness (lib/react_harness.mjs): run with
//   node --test tests/conformance/react.test.mjs
// Schedules run through the CLI in batch mode (see harness.test.mjs for why).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const load = (dir, name) => JSON.parse(readFileSync(join(here, dir, `${name}.json`), "utf8"));

function runBatch(schedules) {
  const out = execFileSync(process.execPath, [join(here, "run.mjs"), "--batch", "-"], {
    input: schedules.map((s) => JSON.stringify(s)).join("\n"),
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  return out
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l).trace);
}

function stepEvents(trace, index) {
  const start = trace.findIndex((e) => e.type === "step" && e.index === index);
  assert.notEqual(start, -1, `step ${index} ran`);
  const rest = trace.slice(start + 1);
  const end = rest.findIndex((e) => e.type === "step" || e.type === "skipped" || e.type === "end");
  return end === -1 ? rest : rest.slice(0, end);
}

const before = (trace, i) => trace.slice(0, trace.findIndex((e) => e.type === "step" && e.index === i));
const calls = (events) =>
  events
    .filter((e) => ["setAuth", "clearAuth", "subscribe", "unsubscribe", "mount", "unmount"].includes(e.type))
    .map((e) => (e.component ? `${e.type} ${e.component}` : e.query ? `${e.type} ${e.query}` : e.type));

test("seed in React: the ungated component's subscribe creates the client, no setAuth yet", () => {
  const [trace] = runBatch([load("schedules-react", "seed-ungated")]);
  const first = before(trace, 0).map((e) => e.type);
  assert.deepEqual(
    first.filter((t) => ["render", "convexAuth", "clientCreated", "socketCreated", "subscribe", "setAuth"].includes(t)),
    ["render", "convexAuth", "clientCreated", "socketCreated", "subscribe"],
  );
  assert.deepEqual(
    trace.filter((e) => e.type === "serverEval").map((e) => [e.identity, e.outcome]),
    [
      [null, "Unauthenticated"],
      ["A#0", "value:A"],
    ],
  );
  assert.ok(
    trace.some(
      (e) => e.type === "view" && e.component === "OrganizationsList" && e.state.error === "Unauthenticated",
    ),
  );
  // Provider signs in: FirstEffect's setAuth.
  assert.deepEqual(calls(stepEvents(trace, 4)), ["setAuth"]);
});

test("gates: setAuth before gated subscribes; sign-out unsubscribes around clearAuth", () => {
  const [trace] = runBatch([load("schedules-react", "gates-signin")]);
  // Provider loads signed in: Provider-gated subscribes after setAuth (same commit).
  assert.deepEqual(calls(stepEvents(trace, 0)), ["setAuth", "subscribe q:list"]);
  // The server confirms: useConvexAuth flips, <Authenticated> mounts.
  const confirm = stepEvents(trace, 6);
  assert.deepEqual(
    confirm.filter((e) => e.type === "convexAuth"),
    [{ type: "convexAuth", isLoading: false, isAuthenticated: true }],
  );
  assert.deepEqual(calls(confirm), ["mount Authed", "subscribe q:list", "subscribe q:list"]);
  // Sign-out: the unmounted child unsubscribes before clearAuth, the
  // "skip"-gated ones after it (their Remove goes out in the setup phase).
  assert.deepEqual(calls(stepEvents(trace, 8)), [
    "unmount Authed",
    "unsubscribe q:list",
    "clearAuth",
    "unsubscribe q:list",
    "unsubscribe q:list",
  ]);
});

test("manual React scheduling: commit and passive effects are separate host tasks", () => {
  const [trace] = runBatch([load("schedules-react", "new-fetcher-manual")]);
  assert.deepEqual(
    stepEvents(trace, 0).map((e) => e.type),
    ["convexAuth", "mount", "view"],
  );
  assert.deepEqual(calls(stepEvents(trace, 1)), ["setAuth"]);
  // A new fetchAccessToken: clearAuth then setAuth in the same task.
  assert.deepEqual(calls(stepEvents(trace, 13)), ["clearAuth", "setAuth"]);
  assert.deepEqual(
    stepEvents(trace, 13)
      .filter((e) => e.type === "send")
      .map((e) => e.frame),
    [{ type: "Authenticate", tokenType: "None", baseVersion: 1 }],
  );
});

test("client and React schedules mix in one process without leaking", () => {
  const client = readdirSync(join(here, "schedules"))
    .filter((f) => f.endsWith(".json"))
    .map((f) => load("schedules", f.replace(/\.json$/, "")));
  const react = readdirSync(join(here, "schedules-react"))
    .filter((f) => f.endsWith(".json"))
    .map((f) => load("schedules-react", f.replace(/\.json$/, "")));
  const all = [...react, ...client, ...react];
  const traces = runBatch(all);
  // The same schedules in reverse order, in another process.
  const reversed = runBatch([...all].reverse()).reverse();
  assert.deepEqual(reversed, traces);
  // A schedule's trace does not depend on what ran before it.
  assert.deepEqual(traces.slice(react.length + client.length), traces.slice(0, react.length));
  for (const t of traces) assert.ok(!t.some((e) => e.type === "harnessError"));
});

test("online event: the reconnect timer is cancelled and the new socket reports the recovery", () => {
  const [trace] = runBatch([load("schedules-react", "online-after-drop")]);
  assert.deepEqual(
    stepEvents(trace, 2).filter((e) => e.kind !== "inactivity"),
    [
      { type: "timerCleared", kind: "reconnect" },
      { type: "socketCreated", conn: 1 },
    ],
  );
  assert.deepEqual(
    stepEvents(trace, 3)
      .filter((e) => e.type === "send")
      .map((e) => e.frame.type),
    ["Connect", "ModifyQuerySet", "Event"],
  );
});

test("the DOM globals exist only during React runs", () => {
  const out = execFileSync(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `const { runSchedule } = await import(${JSON.stringify(join(here, "lib", "harness.mjs"))});
       await runSchedule(${JSON.stringify(load("schedules-react", "online-after-drop"))});
       process.stdout.write(typeof window + " " + typeof document);`,
    ],
    { encoding: "utf8" },
  );
  assert.equal(out, "undefined undefined");
});
