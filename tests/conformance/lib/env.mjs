// Controllable environment for the Convex client: a fake clock, fake timers,
// a fixed Math.random, installed once on globalThis and switched per run.
//
// Timers: every setTimeout/setInterval whose call stack passes through the
// installed `convex` package (a path containing `/node_modules/convex/`) is
// captured by the active run's FakeClock and fires only when a schedule step
// asks for it. Calls from anywhere else (node internals, the test runner,
// React's scheduler in the React harness) go to the real timer functions.
// Captured timers are classified by the method that armed them, read from
// the same stack trace (see `classify`).

const real = {
  setTimeout: globalThis.setTimeout,
  clearTimeout: globalThis.clearTimeout,
  setInterval: globalThis.setInterval,
  clearInterval: globalThis.clearInterval,
  dateNow: Date.now,
  perfNow: globalThis.performance.now.bind(globalThis.performance),
  random: Math.random,
  setImmediate: globalThis.setImmediate,
};

/** The fake epoch: 2024-01-01T00:00:00Z. Every run starts its clock here. */
export const EPOCH_MS = 1704067200000;

const CONVEX_PATH = /[\\/]node_modules[\\/]convex(-\d+\.\d+\.\d+)?[\\/]/; // the pinned package or an older release pinned beside it

/**
 * Timer kinds, by the convex method on the stack when the timer was armed:
 * - reconnect:  WebSocketManager.scheduleReconnect (backoff before a new socket)
 * - refetch:    AuthenticationManager.scheduleTokenRefetch (token refresh)
 * - inactivity: WebSocketManager.resetServerInactivityTimeout (60 s without a server frame)
 * - other:      any other timer armed from convex code (e.g. prewarmQuery, simple_client)
 */
export function classify(stack) {
  if (/\bscheduleReconnect\b/.test(stack)) return "reconnect";
  if (/\bscheduleTokenRefetch\b/.test(stack)) return "refetch";
  if (/\bresetServerInactivityTimeout\b/.test(stack)) return "inactivity";
  return "other";
}

function captureStack() {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 30;
  const stack = new Error().stack ?? "";
  Error.stackTraceLimit = limit;
  return stack;
}

/** FakeTimer handles are objects so they never collide with real handles. */
class FakeTimerHandle {
  constructor(id) {
    this.id = id;
  }
  ref() {
    return this;
  }
  unref() {
    return this;
  }
  hasRef() {
    return false;
  }
  refresh() {
    return this;
  }
  [Symbol.toPrimitive]() {
    return this.id;
  }
}

export class FakeClock {
  /**
   * @param {object} hooks
   * @param {(kind: string, delay: number, id: number) => void} hooks.onSet
   * @param {(kind: string, id: number) => void} hooks.onClear
   * @param {(err: unknown, kind: string) => void} hooks.onError
   */
  constructor(hooks) {
    this.now = EPOCH_MS;
    this.nextId = 1;
    this.seq = 0;
    /** @type {Map<number, {id:number, seq:number, kind:string, delay:number, due:number, fn:Function, args:any[], interval:boolean, handle:FakeTimerHandle}>} */
    this.pending = new Map();
    this.hooks = hooks;
  }

  set(fn, delay, args, interval, kind) {
    const d = Math.max(0, Number(delay) || 0);
    const id = this.nextId++;
    const handle = new FakeTimerHandle(id);
    this.pending.set(id, {
      id,
      seq: this.seq++,
      kind,
      delay: d,
      due: this.now + d,
      fn,
      args,
      interval,
      handle,
    });
    this.hooks.onSet(kind, d, id);
    return handle;
  }

  clear(handle) {
    const id = handle instanceof FakeTimerHandle ? handle.id : Number(handle);
    const t = this.pending.get(id);
    if (t === undefined) return false;
    this.pending.delete(id);
    this.hooks.onClear(t.kind, id);
    return true;
  }

  owns(handle) {
    return handle instanceof FakeTimerHandle;
  }

  /** Pending timers of a kind, oldest (earliest due, then armed first) first. */
  pendingOf(kind) {
    return [...this.pending.values()]
      .filter((t) => t.kind === kind)
      .sort((a, b) => a.due - b.due || a.seq - b.seq);
  }

  /** Fires the oldest pending timer of `kind`. Returns false if there is none. */
  fire(kind) {
    const t = this.pendingOf(kind)[0];
    if (t === undefined) return false;
    if (t.due > this.now) this.now = t.due;
    if (t.interval) {
      t.due = this.now + Math.max(1, t.delay);
      t.seq = this.seq++;
    } else {
      this.pending.delete(t.id);
    }
    try {
      t.fn(...t.args);
    } catch (err) {
      this.hooks.onError(err, t.kind);
    }
    return true;
  }

  summary() {
    return [...this.pending.values()]
      .sort((a, b) => a.due - b.due || a.seq - b.seq)
      .map((t) => t.kind);
  }
}

/** @type {FakeClock | null} */
let active = null;
let installed = false;

/** Installs the switching globals (idempotent). Call before importing convex. */
export function installEnvironment() {
  if (installed) return;
  installed = true;

  const wrapSet = (interval, realFn) =>
    function setTimerShim(fn, delay, ...args) {
      if (active !== null && typeof fn === "function") {
        const stack = captureStack();
        if (CONVEX_PATH.test(stack)) {
          return active.set(fn, delay, args, interval, classify(stack));
        }
      }
      return realFn(fn, delay, ...args);
    };
  const wrapClear = (realFn) =>
    function clearTimerShim(handle) {
      if (handle instanceof FakeTimerHandle) {
        if (active !== null) active.clear(handle);
        return;
      }
      return realFn(handle);
    };

  globalThis.setTimeout = wrapSet(false, real.setTimeout);
  globalThis.setInterval = wrapSet(true, real.setInterval);
  globalThis.clearTimeout = wrapClear(real.clearTimeout);
  globalThis.clearInterval = wrapClear(real.clearInterval);

  Date.now = () => (active !== null ? active.now : real.dateNow());
  globalThis.performance.now = () =>
    active !== null ? active.now - EPOCH_MS : real.perfNow();
  // Deterministic and jitter-free: the reconnect backoff is exactly
  // 100 ms / 1 s * 2^retries, and session ids are constant.
  Math.random = () => (active !== null ? 0.5 : real.random());
}

export function activate(clock) {
  active = clock;
}

export function deactivate() {
  active = null;
}

export const realTimers = real;

/**
 * Lets every pending promise continuation run: one real macrotask turn
 * (setImmediate) runs only after the microtask queue is empty, including
 * continuations queued by continuations. Nothing else is scheduled on the
 * real event loop while a schedule runs (client timers are fake, the
 * WebSocket is in memory), so no other work can slip in.
 */
export async function drain(turns = 2) {
  for (let i = 0; i < turns; i++) {
    await new Promise((r) => real.setImmediate(r));
  }
}

/** Receives React scheduler host tasks while a React run is active. */
let hostSink = null;
let hostCaptureInstalled = false;
const SCHEDULER_PATH = /[\\/]node_modules[\\/]scheduler[\\/]/;

/**
 * React's scheduler (package `scheduler`, used by react-dom) posts each of
 * its host tasks ("performWorkUntilDeadline", a browser macrotask via
 * MessageChannel) with setImmediate when it exists, as in Node. This shim,
 * installed before react-dom is loaded, hands those host tasks to the
 * active React run instead of the event loop, so the run decides when React
 * works. Every other setImmediate call goes to the real one.
 */
export function installHostTaskCapture() {
  if (hostCaptureInstalled) return;
  hostCaptureInstalled = true;
  globalThis.setImmediate = function setImmediateShim(fn, ...args) {
    if (hostSink !== null && typeof fn === "function") {
      const stack = captureStack();
      if (SCHEDULER_PATH.test(stack)) {
        hostSink(() => fn(...args));
        return { hasRef: () => false, ref() { return this; }, unref() { return this; } };
      }
    }
    return real.setImmediate(fn, ...args);
  };
}

export function setHostSink(sink) {
  hostSink = sink;
}
