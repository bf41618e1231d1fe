#!/usr/bin/env node
// Writes random schedules as JSONL, for smoke tests and timing of batch mode:
//   node tools/random_schedules.mjs [COUNT] [SEED] [STEPS] [better-auth] > schedules.jsonl
// Steps are drawn blindly (no knowledge of the client's state), so many are
// reported as `skipped`; the point is robustness and determinism, not coverage.

const [count = 500, seed = 1, steps = 40] = process.argv.slice(2).map(Number);

function mulberry32(a) {
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomSchedule(rand, name, nSteps) {
  const pick = (xs) => xs[Math.floor(rand() * xs.length)];
  const queries = ["q:list", "q:opt", "q:pub", "q:row", "users:current"];
  const conn = () => Math.floor(rand() * 3);
  const gens = [
    [6, () => ({ op: "socketOpen" })],
    [14, () => ({ op: "serverReceive", conn: conn() })],
    [2, () => ({ op: "serverReceive", conn: conn(), reject: true })],
    [12, () => ({ op: "clientReceive", conn: conn() })],
    [3, () => ({ op: "closeComplete", conn: conn() })],
    [1, () => ({ op: "drop", conn: conn() })],
    [1, () => ({ op: "serverExpire", conn: conn() })],
    [4, () => ({ op: "subscribe", query: pick(queries) })],
    [1, () => ({ op: "unsubscribe", query: pick(queries) })],
    [2, () => ({ op: "setAuth" })],
    [1, () => ({ op: "clearAuth" })],
    [
      8,
      () => ({
        op: "answerToken",
        request: Math.floor(rand() * 6),
        token: pick(["A#0", "A#1", "A#2", "B#3", null, "throw"]),
      }),
    ],
    [3, () => ({ op: "timer", kind: pick(["reconnect", "refetch", "inactivity"]) })],
    [1, () => ({ op: "mutation", name: "users:store" })],
  ];
  const total = gens.reduce((s, [w]) => s + w, 0);
  const out = [];
  for (let i = 0; i < nSteps; i++) {
    let r = rand() * total;
    for (const [w, g] of gens) {
      if ((r -= w) < 0) {
        out.push(g());
        break;
      }
    }
  }
  return {
    name,
    functions: [
      { name: "q:list", auth: "required" },
      { name: "q:opt", auth: "optional" },
      { name: "q:pub", auth: "none" },
      { name: "q:row", auth: "user-row" },
    ],
    options: { expectAuth: rand() < 0.3 },
    steps: out,
  };
}

/**
 * A random React schedule with the real ConvexBetterAuthProvider
 * (`provider.kind: "better-auth"`): session and Better Auth token steps mixed
 * with network steps.
 */
export function randomBetterAuthSchedule(rand, name, nSteps) {
  const pick = (xs) => xs[Math.floor(rand() * xs.length)];
  const conn = () => (rand() < 0.7 ? 0 : 1 + Math.floor(rand() * 2));
  const gens = [
    [6, () => ({ op: "socketOpen" })],
    [14, () => ({ op: "serverReceive", conn: conn() })],
    [1, () => ({ op: "serverReceive", conn: conn(), reject: true })],
    [12, () => ({ op: "clientReceive", conn: conn() })],
    [2, () => ({ op: "closeComplete", conn: conn() })],
    [1, () => ({ op: "drop", conn: conn() })],
    [1, () => ({ op: "serverExpire", conn: conn() })],
    [4, () => ({ op: "session", state: pick(["pending", "signed-in", "signed-out"]), user: pick(["A", "B"]) })],
    [
      8,
      () => ({
        op: "answerBetterAuthToken",
        request: Math.floor(rand() * 3),
        token: pick(["A#1", "A#2", "B#3", "B#4", null, "throw"]),
      }),
    ],
    [3, () => ({ op: "timer", kind: pick(["reconnect", "refetch", "inactivity"]) })],
    [1, () => ({ op: "online" })],
  ];
  const total = gens.reduce((s, [w]) => s + w, 0);
  const out = [];
  for (let i = 0; i < nSteps; i++) {
    let r = rand() * total;
    for (const [w, g] of gens) {
      if ((r -= w) < 0) {
        out.push(g());
        break;
      }
    }
  }
  const gates = ["none", "provider", "convex-auth", "authenticated", "current-user"];
  return {
    name,
    mode: "react",
    functions: [
      { name: "q:list", auth: "required" },
      { name: "q:opt", auth: "optional" },
    ],
    provider: {
      kind: "better-auth",
      session: pick(["pending", "signed-in", "signed-out"]),
      user: "A",
      initialToken: pick([null, "A#0"]),
    },
    components: [
      { name: "C1", query: pick(["q:list", "q:opt"]), gate: pick(gates) },
      { name: "C2", query: pick(["q:list", "q:opt"]), gate: pick(gates) },
    ],
    app: { storeUser: rand() < 0.3 },
    steps: out,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // A 4th argument "better-auth" writes randomBetterAuthSchedule schedules.
  const rand = mulberry32(seed);
  const make = process.argv[5] === "better-auth" ? randomBetterAuthSchedule : randomSchedule;
  for (let i = 0; i < count; i++) {
    process.stdout.write(`${JSON.stringify(make(rand, `random-${seed}-${i}`, steps))}\n`);
  }
}
