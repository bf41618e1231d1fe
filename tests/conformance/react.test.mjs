// Tests of the React-layer harness (lib/react_harness.mjs): run with
//   node --test tests/conformance/react.test.mjs
// Schedules run through the CLI in batch mode (see harness.test.mjs for why).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBetterAuthSchedule } from "./tools/random_schedules.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const load = (dir, name) => JSON.parse(readFileSync(join(here, dir, `${name}.json`), "utf8"));

function runBatch(schedules, env = {}, mode = "--batch") {
  const out = execFileSync(process.execPath, [join(here, "run.mjs"), mode, ...(mode === "--batch" ? ["-"] : [])], {
    input: schedules.map((s) => JSON.stringify(s)).join("\n"),
    encoding: "utf8",
    maxBuffer: 1 << 28,
    env: { ...process.env, ...env },
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

test("patched useQuery (unsubscribe-before-clear-auth): skipped children unsubscribe before clearAuth", () => {
  const [trace] = runBatch([load("schedules-react", "gates-signin-patched")]);
  assert.ok(!trace.some((e) => e.type === "harnessError"));
  assert.deepEqual(calls(stepEvents(trace, 8)), [
    "unmount Authed",
    "unsubscribe q:list",
    "unsubscribe q:list",
    "unsubscribe q:list",
    "clearAuth",
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

// --- better-auth provider kind: the real ConvexBetterAuthProvider ------------

const only = (events, type) => events.filter((e) => e.type === type);
const after = (trace, i) => trace.slice(trace.findIndex((e) => e.type === "step" && e.index === i) + 1);
const sends = (events) => only(events, "send").map((e) => e.frame);
const betterAuthSchedules = () =>
  readdirSync(join(here, "schedules-react"))
    .filter((f) => f.startsWith("better-auth-") && f.endsWith(".json"))
    .sort()
    .map((f) => load("schedules-react", f.replace(/\.json$/, "")));

test("better-auth, no initialToken, session pending: the ungated query reaches the server before Authenticate", () => {
  const [trace] = runBatch([load("schedules-react", "better-auth-pending-ungated")]);
  // First render: the provider's hook says loading; nothing calls setAuth.
  const first = before(trace, 0);
  assert.deepEqual(only(first, "authHook"), [{ type: "authHook", isLoading: true, isAuthenticated: false, fetcher: 0 }]);
  assert.deepEqual(calls(first), ["mount OrganizationsList", "mount SessionGated", "subscribe queries:listOrganizations"]);
  // The socket opens before the session resolves: Connect + the query, no Authenticate.
  assert.deepEqual(
    sends(stepEvents(trace, 0)).map((f) => f.type),
    ["Connect", "ModifyQuerySet"],
  );
  const evals = only(trace, "serverEval").map((e) => [e.identity, e.outcome]);
  assert.deepEqual(evals, [
    [null, "Unauthenticated"],
    ["A#1", "value:A"],
    ["A#2", "value:A"],
  ]);
  const firstAuth = trace.findIndex((e) => e.type === "send" && e.frame.type === "Authenticate");
  const firstEval = trace.findIndex((e) => e.type === "serverEval");
  assert.ok(firstEval < firstAuth, "the query is evaluated with no identity before any Authenticate is sent");
  // Sign-in: a new fetcher (its useCallback depends on the session id), setAuth,
  // the provider-gated child subscribes; the fetch goes to the network.
  const signIn = stepEvents(trace, 4);
  assert.deepEqual(only(signIn, "authHook"), [{ type: "authHook", isLoading: false, isAuthenticated: true, fetcher: 1 }]);
  assert.deepEqual(calls(signIn), ["setAuth", "subscribe queries:listOrganizations"]);
  assert.deepEqual(
    signIn.filter((e) => e.type === "tokenRequest" || e.type === "betterAuthTokenRequest"),
    [
      { type: "tokenRequest", index: 0, forceRefreshToken: false },
      { type: "betterAuthTokenRequest", index: 0 },
    ],
  );
  // The client-level answerToken does not apply: the provider's fetcher is real.
  assert.deepEqual(
    trace.find((e) => e.type === "skipped"),
    { type: "skipped", step: 5, op: "answerToken", why: "answerToken does not apply in better-auth mode (the provider's fetcher is real)" },
  );
  assert.equal(only(trace, "betterAuthTokenRequest").length, 2);
});

test("better-auth, initialToken: authenticated at first render from the cache; the session resolving swaps the fetcher", () => {
  const [trace] = runBatch([load("schedules-react", "better-auth-initial-token")]);
  const first = before(trace, 0);
  // The hook says authenticated at once (isLoading = isPending && !cachedToken).
  assert.deepEqual(only(first, "authHook"), [{ type: "authHook", isLoading: false, isAuthenticated: true, fetcher: 0 }]);
  assert.deepEqual(calls(first), ["mount List", "setAuth", "subscribe q:list"]);
  // The first, non-forced fetch returns A#0 without a network request.
  assert.deepEqual(only(first, "tokenRequest"), [{ type: "tokenRequest", index: 0, forceRefreshToken: false }]);
  assert.deepEqual(only(first, "tokenResult"), [{ type: "tokenResult", index: 0, fetcher: 0, token: "A#0" }]);
  assert.deepEqual(only(first, "betterAuthTokenRequest"), []);
  assert.deepEqual(
    sends(stepEvents(trace, 0)).map((f) => f.type + (f.value ? ` ${f.value}` : "")),
    ["Connect", "Authenticate A#0", "ModifyQuerySet"],
  );
  // The session resolves (same user): a new fetcher identity, so convex/react
  // runs clearAuth then setAuth; the new fetcher also answers from the cache.
  const resolve = stepEvents(trace, 4);
  assert.deepEqual(only(resolve, "authHook"), [{ type: "authHook", isLoading: false, isAuthenticated: true, fetcher: 1 }]);
  assert.deepEqual(calls(resolve), ["clearAuth", "setAuth"]);
  assert.deepEqual(only(resolve, "tokenResult"), [{ type: "tokenResult", index: 1, fetcher: 1, token: "A#0" }]);
  assert.deepEqual(only(resolve, "betterAuthTokenRequest"), []);
  assert.deepEqual(sends(resolve), [
    { type: "Authenticate", tokenType: "None", baseVersion: 1 },
    { type: "Authenticate", tokenType: "User", value: "A#0", baseVersion: 2 },
  ]);
  // The ungated list flickers through Unauthenticated (the Authenticate None).
  assert.deepEqual(
    only(trace, "view").map((e) => e.state),
    ["loading", { value: "A" }, { error: "Unauthenticated" }, { value: "A" }],
  );
  // The only network request is the forced refetch after the server confirmed.
  const net = trace.findIndex((e) => e.type === "betterAuthTokenRequest");
  assert.deepEqual(trace[net - 1], { type: "tokenRequest", index: 2, forceRefreshToken: true });
  assert.equal(only(trace, "betterAuthTokenRequest").length, 1);
});

test("better-auth, initialToken: after sign-out the hook still says authenticated and the cache hands out A#0 again", () => {
  const [trace] = runBatch([load("schedules-react", "better-auth-initial-token-signout")]);
  const signOut = stepEvents(trace, 9);
  assert.deepEqual(only(signOut, "betterAuthSession"), [
    { type: "betterAuthSession", state: "signed-out", user: null, sessionId: null },
  ]);
  // Stale closure: the hook's cachedToken is the one of the first render, so
  // isAuthenticated stays true; only the fetcher changes (session id gone).
  assert.deepEqual(only(signOut, "authHook"), [{ type: "authHook", isLoading: false, isAuthenticated: true, fetcher: 1 }]);
  assert.deepEqual(calls(signOut), ["clearAuth", "setAuth", "unsubscribe q:list"]);
  assert.ok(signOut.some((e) => e.type === "view" && e.component === "SessionGated" && e.state === "skip"));
  assert.deepEqual(only(signOut, "tokenRequest"), [{ type: "tokenRequest", index: 2, forceRefreshToken: false }]);
  assert.deepEqual(only(signOut, "tokenResult"), [{ type: "tokenResult", index: 2, fetcher: 1, token: "A#0" }]);
  assert.deepEqual(only(signOut, "betterAuthTokenRequest"), []);
  assert.deepEqual(sends(signOut).at(-1), { type: "Authenticate", tokenType: "User", value: "A#0", baseVersion: 3 });
  // The server takes A#0 again: the signed-out app reads A's data and
  // useConvexAuth says authenticated...
  const rest = after(trace, 9);
  assert.ok(rest.some((e) => e.type === "serverEval" && e.identity === "A#0" && e.outcome === "value:A"));
  assert.ok(rest.some((e) => e.type === "view" && e.component === "List" && e.state.value === "A"));
  const stepAt = (i) => trace.findIndex((e) => e.type === "step" && e.index === i);
  assert.deepEqual(
    only(trace.slice(stepAt(9), stepAt(17)), "convexAuth").map((e) => [e.isLoading, e.isAuthenticated]),
    [
      [true, false],
      [false, true],
      [false, false],
    ],
  );
  // ...until the forced refetch that follows the confirmation gets a 401.
  assert.deepEqual(only(stepEvents(trace, 14), "betterAuthTokenAnswer"), [
    { type: "betterAuthTokenAnswer", index: 1, token: null },
  ]);
  assert.deepEqual(
    stepEvents(trace, 14).filter((e) => ["tokenResult", "clearAuth", "onAuthChange", "convexAuth"].includes(e.type)),
    [
      { type: "tokenResult", index: 3, fetcher: 1, token: null },
      { type: "clearAuth" },
      { type: "onAuthChange", value: false },
      { type: "convexAuth", isLoading: false, isAuthenticated: false },
    ],
  );
  // The hook never changes its mind while signed out.
  assert.deepEqual(only(trace.slice(stepAt(10), stepAt(17)), "authHook"), []);
  // User B signs in: a new fetcher, whose first fetch is A's initial token again.
  const signInB = stepEvents(trace, 17);
  assert.deepEqual(only(signInB, "authHook"), [{ type: "authHook", isLoading: false, isAuthenticated: true, fetcher: 2 }]);
  assert.deepEqual(only(signInB, "tokenResult"), [{ type: "tokenResult", index: 4, fetcher: 2, token: "A#0" }]);
  assert.deepEqual(only(signInB, "betterAuthTokenRequest"), []);
  assert.ok(
    after(trace, 17).some((e) => e.type === "view" && e.component === "SessionGated" && e.state.value === "A"),
    "B's session-gated component shows A's data",
  );
});

test("better-auth, no initialToken: every fetch goes to the network, forced or not", () => {
  const [trace] = runBatch([load("schedules-react", "better-auth-forced-fetch")]);
  const reqs = trace.filter((e) => e.type === "tokenRequest" || e.type === "betterAuthTokenRequest");
  assert.deepEqual(reqs, [
    { type: "tokenRequest", index: 0, forceRefreshToken: false },
    { type: "betterAuthTokenRequest", index: 0 },
    { type: "tokenRequest", index: 1, forceRefreshToken: true },
    { type: "betterAuthTokenRequest", index: 1 },
    { type: "tokenRequest", index: 2, forceRefreshToken: true },
    { type: "betterAuthTokenRequest", index: 2 },
  ]);
  // The refetch timer's forced fetch makes the third network request.
  assert.deepEqual(
    stepEvents(trace, 12).filter((e) => e.type !== "timerSet" && e.type !== "timerCleared"),
    [
      { type: "tokenRequest", index: 2, forceRefreshToken: true },
      { type: "betterAuthTokenRequest", index: 2 },
    ],
  );
  assert.deepEqual(
    only(trace, "tokenResult").map((e) => e.token),
    ["A#1", "A#2", "A#3"],
  );
  assert.deepEqual(trace.at(-1).pendingBetterAuthTokenRequests, []);
});

test("better-auth: a session switch while A's token request is pending gives B's fetcher A's token", () => {
  const [trace] = runBatch([load("schedules-react", "better-auth-switch-user-pending")]);
  const sw = stepEvents(trace, 1);
  assert.deepEqual(calls(sw), ["clearAuth", "setAuth"]);
  // B's fetcher (1) reuses the pending request (pendingTokenRef is shared).
  assert.deepEqual(only(sw, "tokenRequest"), [{ type: "tokenRequest", index: 1, forceRefreshToken: false }]);
  assert.deepEqual(only(sw, "betterAuthTokenRequest"), []);
  assert.deepEqual(only(stepEvents(trace, 2), "tokenResult"), [
    { type: "tokenResult", index: 0, fetcher: 0, token: "A#1" },
    { type: "tokenResult", index: 1, fetcher: 1, token: "A#1" },
  ]);
  assert.deepEqual(
    only(trace, "serverEval").map((e) => [e.identity, e.outcome]),
    [
      ["A#1", "value:A"],
      ["B#2", "value:B"],
    ],
  );
  // B's app shows A's data, authenticated, until the forced refetch brings B#2.
  assert.deepEqual(
    only(trace, "view").map((e) => e.state),
    ["loading", { value: "A" }, { value: "B" }],
  );
});

test("better-auth runs are isolated: a fresh provider module per run (vm), cross-checked against fresh ESM URLs", () => {
  const withToken = load("schedules-react", "better-auth-initial-token");
  const without = load("schedules-react", "better-auth-pending-ungated");
  const list = [withToken, withToken, without, withToken];
  // Every hand-written better-auth schedule after those four, in one process.
  const all = betterAuthSchedules();
  const traces = runBatch([...list, ...all]);
  assert.deepEqual(traces[1], traces[0], "same trace twice in one process");
  assert.deepEqual(traces[3], traces[0], "and after another better-auth run");
  for (const t of traces) {
    assert.ok(
      !t.some((e) => e.type === "error" || e.type === "harnessError"),
      JSON.stringify(t.filter((e) => e.type.endsWith("rror"))),
    );
  }
  // Node's own loader (a new module URL per run) gives the same traces.
  assert.deepEqual(runBatch([...list, ...all], { AUTHRACE_BETTER_AUTH_MODULE: "url" }), traces);
  // So does --serve.
  assert.deepEqual(runBatch(list, {}, "--serve"), traces.slice(0, list.length));
  // One shared instance (a plain import) leaks initialTokenUsed: the second
  // mount ignores initialToken.
  const shared = runBatch(list.slice(0, 2), { AUTHRACE_BETTER_AUTH_MODULE: "shared" });
  assert.deepEqual(shared[0], traces[0]);
  assert.deepEqual(only(before(shared[1], 0), "authHook"), [
    { type: "authHook", isLoading: true, isAuthenticated: false, fetcher: 0 },
  ]);
  assert.ok(!before(shared[1], 0).some((e) => e.type === "setAuth"));
});

test("better-auth: the package shares react and convex/react with the harness, at the pinned versions", () => {
  const nm = join(here, "node_modules");
  const version = (p) => JSON.parse(readFileSync(join(nm, p, "package.json"), "utf8")).version;
  assert.equal(version("@convex-dev/better-auth"), "0.12.5");
  assert.equal(version("better-auth"), "1.6.15");
  for (const dep of ["react", "react-dom", "convex"]) {
    assert.ok(!existsSync(join(nm, "@convex-dev/better-auth/node_modules", dep)), `no nested ${dep}`);
  }
});

test("random better-auth schedules never break the harness and are deterministic", () => {
  let a = 11;
  const rand = () => {
    a = (a * 1103515245 + 12345) % 2147483648;
    return a / 2147483648;
  };
  const schedules = [];
  for (let i = 0; i < 100; i++) schedules.push(randomBetterAuthSchedule(rand, `b${i}`, 40));
  const t1 = runBatch(schedules);
  const t2 = runBatch([...schedules].reverse()).reverse();
  assert.deepEqual(t2, t1);
  t1.forEach((trace, i) => {
    assert.ok(!trace.some((e) => e.type === "harnessError" || e.type === "error"), `schedule b${i}`);
    assert.equal(trace.at(-1).type, "end");
  });
});
