// Runs one schedule against the real BaseConvexClient and returns its trace.
//
// Every run gets a fresh FakeClock, Network (in-memory sockets), FakeServer
// and BaseConvexClient; nothing is shared between runs except the installed
// global shims (env.mjs), which switch to the active run's clock.

import { FakeClock, activate, deactivate, drain, installEnvironment } from "./env.mjs";
import { Network } from "./network.mjs";
import { FakeServer } from "./server.mjs";
import { loadPatched, loadVersion } from "./patches.mjs";
import { encodeToken } from "./tokens.mjs";

installEnvironment();
const convexBrowser = await import("convex/browser");

export const DEPLOYMENT_URL = "https://authrace-test.convex.cloud";

/** The run receiving process-level errors (unhandled rejections). */
let currentRun = null;
let processHooksInstalled = false;

function installProcessHooks() {
  if (processHooksInstalled) return;
  processHooksInstalled = true;
  process.on("unhandledRejection", (reason) => {
    if (currentRun !== null) currentRun.error(reason, "unhandledRejection");
    else process.stderr.write(`unhandled rejection outside a run: ${describeError(reason)}\n`);
  });
  process.on("uncaughtException", (err) => {
    if (currentRun !== null) currentRun.error(err, "uncaughtException");
    else {
      process.stderr.write(`uncaught exception outside a run: ${describeError(err)}\n`);
      process.exit(70);
    }
  });
}

export function describeError(err) {
  if (err instanceof Error) return `${err.name === "Error" ? "" : `${err.name}: `}${err.message}`;
  return String(err);
}

/** Trace form of a client-side query result (FunctionResult | undefined). */
function summarizeResult(result) {
  if (result === undefined) return { loading: true };
  if (result.success) return { value: result.value ?? null };
  return { error: result.errorMessage };
}

export const DEFAULT_OPTIONS = {
  expectAuth: false,
  initialAuthTokenReuse: false,
  authRefreshTokenLeewaySeconds: 10,
  tokenLifetimeSeconds: 900,
  traceLogs: false,
  verbose: false,
  /** Ids of diffs in patches/ applied to a copy of the package (lib/patches.mjs). */
  patches: [],
  /** The npm convex release to run (1.48.0, or one pinned as `convex-<version>`). */
  version: null,
};

export class Run {
  mode = "client";

  constructor(schedule) {
    this.schedule = schedule;
    this.options = { ...DEFAULT_OPTIONS, ...(schedule.options ?? {}) };
    this.trace = [];
    /** After the end event: teardown effects are not traced. */
    this.muted = false;
    this.tokenRequests = [];
    /** query name -> live unsubscribe handles, oldest first */
    this.handles = new Map();
    this.clock = new FakeClock({
      onSet: (kind, delay) => this.emit({ type: "timerSet", kind, delay }),
      onClear: (kind) => this.emit({ type: "timerCleared", kind }),
      onError: (err, kind) => this.error(err, `timer ${kind}`),
    });
    this.network = new Network(this);
    this.server = new FakeServer({
      functions: schedule.functions ?? [],
      options: this.options,
      emit: (ev) => this.emit(ev),
      push: (conn, frame) => this.network.push(conn, frame),
      served: () => this.network.served(),
    });
    this.base = null;
  }

  emit(ev) {
    if (!this.muted) this.trace.push(ev);
  }

  error(err, where) {
    this.emit({ type: "error", where, message: describeError(err) });
  }

  logger() {
    const log = (level) => (...args) => {
      if (!this.options.traceLogs) return;
      if (level === "verbose" && !this.options.verbose) return;
      const message = args
        .map((a) => (typeof a === "string" ? a : a instanceof Error ? describeError(a) : JSON.stringify(a)))
        .join(" ");
      this.emit({ type: "log", level, message });
    };
    return { logVerbose: log("verbose"), log: log("info"), warn: log("warn"), error: log("error") };
  }

  /** Client options shared by both modes (the schedule's `options`). */
  clientOptions() {
    const o = this.options;
    return {
      webSocketConstructor: this.network.WebSocket,
      unsavedChangesWarning: false,
      logger: this.logger(),
      verbose: o.verbose,
      expectAuth: o.expectAuth,
      initialAuthTokenReuse: o.initialAuthTokenReuse,
      authRefreshTokenLeewaySeconds: o.authRefreshTokenLeewaySeconds,
    };
  }

  /** Loads the convex modules this run uses (a patched copy if `options.patches`). */
  async load() {
    const old = await loadVersion(this.options.version, "browser");
    if (old !== null && (this.options.patches ?? []).length > 0) {
      throw new Error("options.patches apply to convex 1.48.0 only");
    }
    this.convexBrowser = old ?? (await loadPatched(this.options.patches, "browser")) ?? convexBrowser;
  }

  construct() {
    this.base = new this.convexBrowser.BaseConvexClient(DEPLOYMENT_URL, () => {}, this.clientOptions());
    this.instrument(this.base);
  }

  /** The BaseConvexClient (React mode: creates it, as app code would). */
  get client() {
    return this.base;
  }

  /**
   * Wraps the BaseConvexClient's auth and subscription entry points so every
   * call is traced whoever makes it (a schedule step, or convex/react), and
   * traces the client's view of query results (addOnTransitionHandler).
   */
  instrument(base) {
    const emit = (ev) => this.emit(ev);
    const subscribe = base.subscribe.bind(base);
    base.subscribe = (name, args, options) => {
      emit({ type: "subscribe", query: name });
      const r = subscribe(name, args, options);
      let done = false;
      return {
        queryToken: r.queryToken,
        unsubscribe: () => {
          if (!done) emit({ type: "unsubscribe", query: name });
          done = true;
          r.unsubscribe();
        },
      };
    };
    const setAuth = base.setAuth.bind(base);
    base.setAuth = (fetchToken, onChange, onRefreshChange) => {
      emit({ type: "setAuth" });
      setAuth(
        this.wrapFetchToken(fetchToken),
        (value) => {
          emit({ type: "onAuthChange", value });
          onChange(value);
        },
        onRefreshChange,
      );
    };
    const clearAuth = base.clearAuth.bind(base);
    // With clear-auth-resets-manager the auth manager's own fallback calls
    // clearLocalAuth() instead of clearAuth(): traced as a clearAuth too, but
    // once when the app's clearAuth() calls it.
    let inClearAuth = false;
    base.clearAuth = () => {
      emit({ type: "clearAuth" });
      inClearAuth = true;
      try {
        clearAuth();
      } finally {
        inClearAuth = false;
      }
    };
    if (typeof base.clearLocalAuth === "function") {
      const clearLocalAuth = base.clearLocalAuth.bind(base);
      base.clearLocalAuth = () => {
        if (!inClearAuth) emit({ type: "clearAuth" });
        clearLocalAuth();
      };
    }
    base.addOnTransitionHandler((transition) => {
      for (const q of transition.queries) {
        let query;
        try {
          query = JSON.parse(q.token).udfPath;
        } catch {
          query = q.token;
        }
        emit({
          type: "queryResult",
          query,
          result: q.modification.kind === "Removed" ? { removed: true } : summarizeResult(q.modification.result),
        });
      }
    });
  }

  /** Lets everything the last step set off run (see env.mjs `drain`). */
  async settle() {
    await drain();
  }

  /** Runs before the end event is emitted (React mode: pending React work). */
  async finish() {}

  /** Runs after the end event, before the clock is deactivated. */
  async teardown() {}

  fetchToken = ({ forceRefreshToken }) => {
    const index = this.tokenRequests.length;
    this.emit({ type: "tokenRequest", index, forceRefreshToken });
    return new Promise((resolve, reject) => {
      this.tokenRequests.push({ index, forceRefreshToken, resolve, reject, answered: false });
    });
  };

  /**
   * The token fetcher handed to the BaseConvexClient by a `setAuth` call.
   * Client mode and the default React mode trace token requests inside their
   * own fetcher (`fetchToken` below) and pass it through unchanged; the
   * better-auth React mode wraps the provider's real fetcher.
   */
  wrapFetchToken(fetchToken) {
    return fetchToken;
  }

  /** Extra fields of the `end` event (better-auth React mode). */
  endExtra() {
    return {};
  }

  /** The onChange of step `setAuth` (the instrumentation traces the calls). */
  onAuthChange = () => {};

  /** Executes one step; returns null, or why the step is not applicable. */
  step(s) {
    const c = this.client;
    switch (s.op) {
      case "subscribe": {
        if (typeof s.query !== "string") return "subscribe needs a query name";
        const { unsubscribe } = c.subscribe(s.query, s.args ?? {});
        if (!this.handles.has(s.query)) this.handles.set(s.query, []);
        this.handles.get(s.query).push(unsubscribe);
        return null;
      }
      case "unsubscribe": {
        const live = this.handles.get(s.query) ?? [];
        if (live.length === 0) return "no live subscription of that query";
        live.shift()();
        return null;
      }
      case "setAuth":
        c.setAuth(this.fetchToken, this.onAuthChange);
        return null;
      case "clearAuth":
        c.clearAuth();
        return null;
      case "answerToken": {
        const req = this.tokenRequests[s.request];
        if (req === undefined) return "no such token request";
        if (req.answered) return "token request already answered";
        req.answered = true;
        if (s.token === "throw") req.reject(new Error("fetchToken threw (schedule)"));
        else if (s.token === null || s.token === undefined) req.resolve(s.token ?? null);
        else req.resolve(encodeToken(s.token, this.options.tokenLifetimeSeconds));
        return null;
      }
      case "socketOpen":
        return this.network.open(s.conn);
      case "serverReceive":
        return this.network.serverReceive(s.conn, s.reject === true, this.server);
      case "serverExpire": {
        const conn = this.network.conn(s.conn);
        if (conn === undefined) return "no such connection";
        if (!conn.opened || conn.server.closed) return "server does not serve this connection";
        if (conn.server.identity === null) return "no identity on this connection";
        this.server.expire(conn.server);
        conn.up = [];
        return null;
      }
      case "expire": {
        const conn = this.network.conn(s.conn);
        if (conn === undefined) return "no such connection";
        if (!conn.opened || conn.server.closed) return "server does not serve this connection";
        if (conn.server.identity === null) return "no identity on this connection";
        this.server.tokenExpires(conn.server);
        return null;
      }
      case "clientReceive":
        return this.network.clientReceive(s.conn);
      case "closeComplete":
        return this.network.closeComplete(s.conn);
      case "drop":
        return this.network.drop(s.conn);
      case "timer": {
        if (typeof s.kind !== "string") return "timer needs a kind";
        return this.clock.fire(s.kind) ? null : `no pending ${s.kind} timer`;
      }
      case "mutation": {
        const name = s.name ?? "users:store";
        const { requestId, mutationPromise } = c.enqueueMutation(name, s.args ?? {});
        mutationPromise.then(
          (r) =>
            this.emit(
              r.success
                ? { type: "mutationResult", requestId, udfPath: name, success: true }
                : { type: "mutationResult", requestId, udfPath: name, success: false, error: r.errorMessage },
            ),
          (err) => this.error(err, "mutation"),
        );
        return null;
      }
      case "webhook": {
        if (s.user !== "A" && s.user !== "B") return "webhook needs a user, A or B";
        return this.server.webhook(s.user);
      }
      case "advance": {
        // Moves the fake clock without firing anything (Date.now only).
        this.clock.now += Number(s.ms) || 0;
        return null;
      }
      default:
        return `unknown op ${JSON.stringify(s.op)}`;
    }
  }

  async execute() {
    currentRun = this;
    activate(this.clock);
    try {
      this.emit({ type: "init", mode: this.mode });
      try {
        this.construct();
      } catch (err) {
        this.error(err, "construct");
        return this.trace;
      }
      await this.settle();
      const steps = this.schedule.steps ?? [];
      for (let k = 0; k < steps.length; k++) {
        const s = steps[k] ?? {};
        const mark = this.trace.length;
        this.emit({ type: "step", index: k, op: s.op });
        let why;
        try {
          why = this.step(s);
        } catch (err) {
          this.error(err, `step ${k} (${s.op})`);
          why = null;
        }
        if (why) {
          // Nothing happened: the marker is replaced by a `skipped` event.
          this.trace.splice(mark);
          this.emit({ type: "skipped", step: k, op: s.op, why });
        }
        await this.settle();
      }
      await this.finish();
      this.emit({
        type: "end",
        pendingTimers: this.clock.summary(),
        pendingTokenRequests: this.tokenRequests.filter((r) => !r.answered).map((r) => r.index),
        conns: this.network.summary(),
        liveSubscriptions: Object.fromEntries(
          [...this.handles].filter(([, l]) => l.length > 0).map(([q, l]) => [q, l.length]),
        ),
        ...this.endExtra(),
      });
      return this.trace;
    } finally {
      // Leave the client with nothing to do: its timers belong to this clock,
      // which nobody will fire again, and its sockets are in-memory objects.
      await this.teardown();
      deactivate();
      currentRun = null;
    }
  }
}

/** Runs one schedule and returns its trace (array of events). */
export async function runScheduleIn(RunClass, schedule) {
  installProcessHooks();
  let run;
  try {
    run = new RunClass(schedule);
  } catch (err) {
    return [{ type: "harnessError", message: describeError(err) }];
  }
  try {
    await run.load();
  } catch (err) {
    return [{ type: "harnessError", message: describeError(err) }];
  }
  try {
    return await run.execute();
  } catch (err) {
    run.emit({ type: "harnessError", message: describeError(err) });
    return run.trace;
  }
}

export async function runSchedule(schedule) {
  if (schedule !== null && typeof schedule === "object" && schedule.mode === "react") {
    const { ReactRun } = await import("./react_harness.mjs");
    return runScheduleIn(ReactRun, schedule);
  }
  return runScheduleIn(Run, schedule);
}
