// Tests of the conformance harness itself: run with
//   node --test tests/conformance/harness.test.mjs
//
// Schedules run through the CLI (batch mode, a child process), as the Rust
// side runs them: node:test installs its own unhandledRejection handler in
// the test process, which would hide the client's unhandled rejections from
// the harness.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { randomSchedule } from "./tools/random_schedules.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const load = (name) => JSON.parse(readFileSync(join(here, "schedules", `${name}.json`), "utf8"));

function cli(args, input) {
  return execFileSync(process.execPath, [join(here, "run.mjs"), ...args], {
    input,
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
}

/** Runs schedules in one batch process; returns their traces in order. */
function runBatch(schedules) {
  const out = cli(["--batch", "-"], schedules.map((s) => JSON.stringify(s)).join("\n"));
  return out
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l).trace);
}

async function runSchedule(schedule) {
  return runBatch([schedule])[0];
}

/** Events of one step (between its marker and the next marker). */
function stepEvents(trace, index) {
  const start = trace.findIndex((e) => e.type === "step" && e.index === index);
  assert.notEqual(start, -1, `step ${index} ran`);
  const rest = trace.slice(start + 1);
  const end = rest.findIndex((e) => e.type === "step" || e.type === "skipped" || e.type === "end");
  return end === -1 ? rest : rest.slice(0, end);
}

const sends = (trace, conn) =>
  trace.filter((e) => e.type === "send" && (conn === undefined || e.conn === conn)).map((e) => e.frame);
const sendTypes = (trace, conn) => sends(trace, conn).map((f) => f.type);

test("seed: subscribe before setAuth evaluates the query with no identity", async () => {
  const trace = await runSchedule(load("seed"));
  assert.deepEqual(sendTypes(trace, 0), ["Connect", "ModifyQuerySet"]);
  const evals = trace.filter((e) => e.type === "serverEval");
  assert.deepEqual(evals, [
    { type: "serverEval", conn: 0, udfPath: "q:list", identity: null, outcome: "Unauthenticated" },
  ]);
  assert.ok(
    trace.some((e) => e.type === "queryResult" && e.query === "q:list" && e.result.error === "Unauthenticated"),
  );
  assert.ok(!trace.some((e) => e.type === "skipped"));
  assert.ok(!trace.some((e) => e.type === "error" || e.type === "harnessError"));
});

test("paused: the first token sends Connect, Authenticate, ModifyQuerySet in that order", async () => {
  const trace = await runSchedule(load("paused"));
  // Nothing is sent before the token arrives, even though the socket opened.
  assert.deepEqual(sends(stepEvents(trace, 2)), []);
  assert.deepEqual(sends(stepEvents(trace, 3)), [
    { type: "Connect" },
    { type: "Authenticate", tokenType: "User", value: "A#0", baseVersion: 0 },
    {
      type: "ModifyQuerySet",
      baseVersion: 0,
      newVersion: 1,
      modifications: [{ type: "Add", queryId: 0, udfPath: "q:list" }],
    },
  ]);
  const evals = trace.filter((e) => e.type === "serverEval");
  assert.deepEqual(
    evals.map((e) => [e.identity, e.outcome]),
    [["A#0", "value:A"]],
  );
  // The confirmation of the cached token forces a refetch, then onChange(true).
  const confirm = stepEvents(trace, 7);
  assert.deepEqual(
    confirm.filter((e) => e.type === "tokenRequest" || e.type === "onAuthChange"),
    [
      { type: "tokenRequest", index: 1, forceRefreshToken: true },
      { type: "onAuthChange", value: true },
    ],
  );
});

test("drop-while-paused: the reconnect sends ModifyQuerySet with no Authenticate", async () => {
  const trace = await runSchedule(load("drop-while-paused"));
  assert.deepEqual(
    stepEvents(trace, 2).filter((e) => e.type === "closed" || e.type === "timerSet"),
    [
      { type: "closed", conn: 0, code: 1006 },
      { type: "timerSet", kind: "reconnect", delay: 1000 },
    ],
  );
  assert.deepEqual(
    stepEvents(trace, 3).filter((e) => e.type === "socketCreated"),
    [{ type: "socketCreated", conn: 1 }],
  );
  assert.deepEqual(sendTypes(stepEvents(trace, 4), 1), ["Connect", "ModifyQuerySet"]);
  assert.deepEqual(
    trace.filter((e) => e.type === "serverEval").map((e) => [e.conn, e.identity, e.outcome]),
    [[1, null, "Unauthenticated"]],
  );
  // The token arrives after the queries already went out.
  assert.deepEqual(sends(stepEvents(trace, 7)), [
    { type: "Authenticate", tokenType: "User", value: "A#0", baseVersion: 0 },
  ]);
});

test("expectAuth, socket opens before setAuth: no Connect on that socket", async () => {
  const trace = await runSchedule(load("expect-auth-open-first"));
  assert.deepEqual(sendTypes(trace, 0), ["Authenticate", "ModifyQuerySet"]);
  const other = await runSchedule(load("expect-auth-setauth-first"));
  assert.deepEqual(sendTypes(other, 0), ["Connect", "Authenticate", "ModifyQuerySet"]);
});

test("refresh-expire: refetch timer, same-token refetch, expiry and reauthentication", async () => {
  const trace = await runSchedule(load("refresh-expire"));
  // Fresh token confirmed: refetch scheduled at (exp - iat - leeway) and
  // onAuthChange(true) again (hadAuth is read from the replaced state).
  assert.deepEqual(
    stepEvents(trace, 11).filter(
      (e) => (e.type === "timerSet" && e.kind !== "inactivity") || e.type === "onAuthChange",
    ),
    [
      { type: "timerSet", kind: "refetch", delay: 890000 },
      { type: "onAuthChange", value: true },
    ],
  );
  assert.deepEqual(
    stepEvents(trace, 12).filter((e) => e.type === "tokenRequest"),
    [{ type: "tokenRequest", index: 2, forceRefreshToken: true }],
  );
  // The same token again: nothing is sent and no refetch is rescheduled.
  assert.deepEqual(stepEvents(trace, 13), []);
  assert.deepEqual(
    trace.find((e) => e.type === "skipped" && e.step === 14),
    { type: "skipped", step: 14, op: "timer", why: "no pending refetch timer" },
  );
  // Expiry: AuthError{authUpdateAttempted:false} then close.
  assert.deepEqual(
    stepEvents(trace, 15).map((e) => e.frame),
    [
      { type: "AuthError", authUpdateAttempted: false, baseVersion: 2 },
      { type: "Close", code: 1005, reason: "" },
    ],
  );
  // The client stops the socket, and fetches only once the close completes.
  assert.deepEqual(
    stepEvents(trace, 16).filter((e) => e.type !== "timerCleared" && e.type !== "timerSet"),
    [
      { type: "deliver", conn: 0, frame: { type: "AuthError" } },
      { type: "clientClose", conn: 0 },
    ],
  );
  assert.deepEqual(
    stepEvents(trace, 17).filter((e) => e.type === "tokenRequest"),
    [{ type: "tokenRequest", index: 3, forceRefreshToken: true }],
  );
  assert.deepEqual(sendTypes(stepEvents(trace, 20), 1), ["Connect", "Authenticate", "ModifyQuerySet"]);
  assert.ok(trace.some((e) => e.type === "mutationResult" && e.success === true));
});

test("clearAuth leaves the refetch timer armed; it authenticates again", async () => {
  const trace = await runSchedule(load("clear-auth-keeps-refetch"));
  assert.deepEqual(sends(stepEvents(trace, 12)), [{ type: "Authenticate", tokenType: "None", baseVersion: 2 }]);
  assert.deepEqual(
    stepEvents(trace, 15).filter((e) => e.type === "tokenRequest"),
    [{ type: "tokenRequest", index: 2, forceRefreshToken: true }],
  );
  assert.deepEqual(sends(stepEvents(trace, 16)), [
    { type: "Authenticate", tokenType: "User", value: "A#2", baseVersion: 3 },
  ]);
});

test("patches: with clear-auth-resets-manager, clearAuth cancels the refetch timer", async () => {
  const schedule = { ...load("clear-auth-keeps-refetch"), options: { patches: ["clear-auth-resets-manager"] } };
  const trace = await runSchedule(schedule);
  const step12 = stepEvents(trace, 12);
  assert.deepEqual(sends(step12), [{ type: "Authenticate", tokenType: "None", baseVersion: 2 }]);
  assert.deepEqual(
    step12.filter((e) => e.type === "timerCleared" && e.kind === "refetch"),
    [{ type: "timerCleared", kind: "refetch" }],
  );
  assert.ok(trace.some((e) => e.type === "skipped" && e.step === 15), "the refetch timer is gone");
  assert.ok(!trace.some((e) => e.type === "harnessError"));
  // The installed package is untouched: the same schedule without patches
  // still authenticates again.
  const plain = await runSchedule(load("clear-auth-keeps-refetch"));
  assert.equal(sends(stepEvents(plain, 16))[0].value, "A#2");
});

test("patches: clear-auth-resets-manager during a reauthentication restarts the stopped socket", async () => {
  const schedule = load("clear-auth-during-reauth-patched");
  const trace = await runSchedule(schedule);
  // clearAuth() restarts the socket the reauthentication stopped; the
  // forced fetch's answer is discarded; the next setAuth authenticates on
  // the new socket.
  assert.ok(stepEvents(trace, 9).some((e) => e.type === "socketCreated" && e.conn === 1));
  assert.ok(!stepEvents(trace, 10).some((e) => e.type === "socketCreated"));
  const auth = trace.filter((e) => e.type === "send" && e.conn === 1 && e.frame.type === "Authenticate");
  assert.deepEqual(auth.map((e) => e.frame.value), ["A#2"]);
  // Unpatched, the reauthentication's answer restarts the socket.
  const plain = await runSchedule({ ...schedule, options: {} });
  assert.ok(stepEvents(plain, 10).some((e) => e.type === "socketCreated" && e.conn === 1));
});

test("patches: an unknown id, or a hunk that does not fit, is an error naming it", async () => {
  const trace = await runSchedule({ functions: [], options: { patches: ["no-such-patch"] }, steps: [] });
  assert.equal(trace.length, 1);
  assert.equal(trace[0].type, "harnessError");
  assert.match(trace[0].message, /no-such-patch/);
  const { parseDiff, applyHunks } = await import("./lib/patches.mjs");
  const [file] = parseDiff("about\n--- a/x.js\n+++ b/x.js\n@@ -2,2 +2,2 @@\n b\n-c\n+C\n", "t.diff");
  assert.equal(file.path, "x.js");
  assert.equal(applyHunks("a\nb\nc\nd", file.hunks, "t"), "a\nb\nC\nd");
  assert.equal(applyHunks("z\na\nb\nc", file.hunks, "t"), "z\na\nb\nC", "found at an offset");
  assert.throws(() => applyHunks("a\nb\nx", file.hunks, "t.diff, x.js"), /t\.diff, x\.js: the hunk at diff line 4 does not apply/);
});

test("a fetchToken that throws leaves the socket paused; the next setAuth resumes without Connect", async () => {
  const trace = await runSchedule({
    functions: [{ name: "q:list", auth: "required" }],
    steps: [
      { op: "setAuth" },
      { op: "subscribe", query: "q:list" },
      { op: "socketOpen" },
      { op: "answerToken", request: 0, token: "throw" },
      { op: "subscribe", query: "q:list" },
      { op: "setAuth" },
      { op: "answerToken", request: 1, token: "A#0" },
    ],
  });
  assert.deepEqual(
    stepEvents(trace, 3).map((e) => e.type),
    ["error"],
  );
  assert.deepEqual(sends(trace.slice(0, trace.findIndex((e) => e.type === "step" && e.index === 6))), []);
  // The socket opened while paused ("uninitialized"); the second setAuth's
  // pause() made it "yes", so the token resumes via onResume: no Connect.
  assert.deepEqual(sendTypes(stepEvents(trace, 6)), ["Authenticate", "ModifyQuerySet"]);
});

test("inapplicable steps are reported as skipped, errors are recorded", async () => {
  const trace = await runSchedule({
    functions: [{ name: "q:list", auth: "required" }],
    steps: [
      { op: "clientReceive", conn: 0 },
      { op: "serverReceive", conn: 7 },
      { op: "answerToken", request: 0, token: "A#0" },
      { op: "timer", kind: "refetch" },
      { op: "nonsense" },
      { op: "setAuth" },
      { op: "answerToken", request: 0, token: "throw" },
      { op: "answerToken", request: 0, token: "A#0" },
    ],
  });
  assert.deepEqual(
    trace.filter((e) => e.type === "skipped").map((e) => e.step),
    [0, 1, 2, 3, 4, 7],
  );
  // setAuth's promise rejects inside the client: an unhandled rejection.
  assert.deepEqual(
    stepEvents(trace, 6).filter((e) => e.type === "error"),
    [{ type: "error", where: "unhandledRejection", message: "fetchToken threw (schedule)" }],
  );
  assert.equal(trace.at(-1).type, "end");
});

test("traces are deterministic and runs do not leak into each other", async () => {
  const names = readdirSync(join(here, "schedules")).filter((f) => f.endsWith(".json"));
  const schedules = names.map((n) => load(n.replace(/\.json$/, "")));
  const first = runBatch(schedules);
  const second = runBatch([...schedules].reverse()).reverse();
  assert.deepEqual(second, first);
  // Each schedule alone in its own process gives the same trace as in a batch.
  for (let i = 0; i < schedules.length; i++) {
    assert.deepEqual(await runSchedule(schedules[i]), first[i], names[i]);
  }
});

test("random schedules never break the harness", async () => {
  let a = 7;
  const rand = () => {
    a = (a * 1103515245 + 12345) % 2147483648;
    return a / 2147483648;
  };
  const schedules = [];
  for (let i = 0; i < 200; i++) schedules.push(randomSchedule(rand, `r${i}`, 40));
  const t1 = runBatch(schedules);
  const t2 = runBatch([...schedules, ...schedules]);
  assert.deepEqual(t2, [...t1, ...t1], "deterministic, also when repeated in one process");
  t1.forEach((trace, i) => {
    assert.ok(!trace.some((e) => e.type === "harnessError"), `schedule r${i}: no harness error`);
    assert.equal(trace.filter((e) => e.type === "step" || e.type === "skipped").length, 40);
    assert.equal(trace.at(-1).type, "end");
  });
});

test("CLI: single and batch modes print the same traces", () => {
  const run = cli;
  const dir = join(here, "schedules");
  const batch = run(["--batch", dir])
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  const names = readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort();
  assert.deepEqual(
    batch.map((b) => b.name),
    names,
  );
  for (const { name, trace } of batch) {
    const text = readFileSync(join(dir, name), "utf8");
    assert.deepEqual(JSON.parse(run([], text)), trace, `${name} via stdin`);
    assert.deepEqual(JSON.parse(run([join(dir, name)])), trace, `${name} via path`);
  }
  const jsonl = names.map((n) => JSON.stringify(JSON.parse(readFileSync(join(dir, n), "utf8")))).join("\n");
  const viaJsonl = run(["--batch", "-"], jsonl)
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l).trace);
  assert.deepEqual(
    viaJsonl,
    batch.map((b) => b.trace),
  );
});
