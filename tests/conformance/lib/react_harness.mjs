// Phase 2: the React layer. React 19 renders convex/react's
// ConvexProviderWithAuth in jsdom over the same fake WebSocket, fake server
// and fake clock as the client-level harness (lib/harness.mjs).
//
// No act(): React schedules its own work. Its scheduler's host tasks (the
// macrotasks a browser would run from a MessageChannel) are captured by
// env.mjs `installHostTaskCapture` and run by this harness:
// - options.reactAuto = true (default): after every step, microtasks and
//   React host tasks run until there is nothing left, so each step is one
//   browser macrotask plus all the rendering it causes;
// - options.reactAuto = false: a host task runs only on a {"op":"react"}
//   step (one task per step), so network steps can land between a commit
//   and its passive effects, as in a browser.
// The fake clock never advances on its own, so the scheduler's 5 ms time
// slice never expires: a host task runs every queued React task, except
// that React asks to yield after a commit (requestPaint), which ends the
// host task and posts another.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import { JSDOM } from "jsdom";
import { drain, installEnvironment, installHostTaskCapture, setHostSink } from "./env.mjs";
import { DEPLOYMENT_URL, Run, describeError } from "./harness.mjs";
import { loadPatched } from "./patches.mjs";
import { encodeToken, parseLabel, tokenLabel } from "./tokens.mjs";

installEnvironment();
installHostTaskCapture();

// One DOM per process; its globals are present only while a React run is
// active, so client-level runs in the same batch process see no `window`.
const dom = new JSDOM("<!doctype html><html><head></head><body></body></html>", {
  url: "https://app.authrace.test/",
  pretendToBeVisual: false,
});
const DOM_GLOBALS = [
  "window",
  "document",
  "navigator",
  "Node",
  "Element",
  "HTMLElement",
  "HTMLIFrameElement",
  "Text",
  "Event",
  "EventTarget",
  "CustomEvent",
  "MutationObserver",
  "getComputedStyle",
];
const savedGlobals = new Map();

function installDom() {
  for (const name of DOM_GLOBALS) {
    savedGlobals.set(name, Object.getOwnPropertyDescriptor(globalThis, name));
    const value = name === "window" ? dom.window : dom.window[name];
    Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  }
}

function removeDom() {
  for (const [name, desc] of savedGlobals) {
    if (desc === undefined) delete globalThis[name];
    else Object.defineProperty(globalThis, name, desc);
  }
  savedGlobals.clear();
}

// react-dom decides at load time whether a DOM exists (canUseDOM), and the
// production builds are what browsers run.
process.env.NODE_ENV ??= "production";

// A minimal React DevTools hook, seen by react-dom when it loads (it keeps
// the object; the global is removed again right after). React calls
// `onCommitFiberRoot` after each commit's layout effects, before its passive
// effects. The better-auth mode reads, from the committed fiber tree, the
// props convex/react's ConvexProviderWithAuth passed down from its `useAuth()`
// call (the provider's hook result, which nothing else exposes); every other
// run leaves `commitSink` null and the hook does nothing.
let commitSink = null;
const ownDevtoolsHook = !("__REACT_DEVTOOLS_GLOBAL_HOOK__" in globalThis);
if (ownDevtoolsHook) {
  globalThis.__REACT_DEVTOOLS_GLOBAL_HOOK__ = {
    supportsFiber: true,
    isDisabled: false,
    inject: () => 1,
    onCommitFiberRoot: (_rendererId, root) => commitSink?.(root),
    onPostCommitFiberRoot() {},
    onCommitFiberUnmount() {},
    onScheduleFiberRoot() {},
    setStrictMode() {},
    checkDCE() {},
  };
}
installDom();
const React = (await import("react")).default;
const { createRoot } = await import("react-dom/client");
const convexReact = await import("convex/react");
removeDom();
if (ownDevtoolsHook) delete globalThis.__REACT_DEVTOOLS_GLOBAL_HOOK__;

const h = React.createElement;

const GATES = new Set(["none", "provider", "convex-auth", "authenticated", "current-user"]);

// --- the better-auth provider kind -------------------------------------------
//
// `ConvexBetterAuthProvider` (npm @convex-dev/better-auth, entry
// `@convex-dev/better-auth/react`, file dist/react/index.js) keeps module
// state: `let initialTokenUsed` is set to true by the first provider that
// mounts and is never reset, and while it is true `initialToken` is ignored.
// Every better-auth run therefore gets a fresh instance of that module.
//
// Default ("vm"): the file's text is compiled once (vm.Script, under its own
// file name) as a function of its three imports, and each run calls that
// function, which evaluates the module body again: new `initialTokenUsed`,
// new components. The only change to the text is the module syntax: its three
// single-line `import { a as b } from "x"` become `const { a: b } =
// imports["x"]` on the same line (line numbers are kept) and `export` is
// dropped from its two exports; anything else that looks like module syntax
// stops the harness. The imports are the harness's own instances of `react`,
// `react/jsx-runtime` and `convex/react` (npm dedupes them: one copy each).
// Nothing stays behind after a run.
//
// AUTHRACE_BETTER_AUTH_MODULE selects another loader, for the tests:
// - "url": `import()` of the real file through a new URL per run
//   (`index.js?run=N`; Node keys ES module instances by URL, query included).
//   Same isolation through Node's own loader, but every instance stays in the
//   module map (about 26 kB and 6 ms a run): the cross-check for "vm".
// - "shared": one instance for the whole process, as a plain import would
//   give; shows the leak the other two avoid.
const BETTER_AUTH_REACT_URL = import.meta.resolve("@convex-dev/better-auth/react");
const BETTER_AUTH_MODULE = process.env.AUTHRACE_BETTER_AUTH_MODULE ?? "vm";
if (!["vm", "url", "shared"].includes(BETTER_AUTH_MODULE)) {
  throw new Error(`AUTHRACE_BETTER_AUTH_MODULE: unknown loader ${JSON.stringify(BETTER_AUTH_MODULE)}`);
}
let betterAuthLoads = 0;
let betterAuthFactory = null;
let betterAuthShared = null;

/** Compiles dist/react/index.js into `(imports) => exports` (once). */
async function compileBetterAuthReact() {
  const path = fileURLToPath(BETTER_AUTH_REACT_URL);
  const source = readFileSync(path, "utf8");
  const importSpecs = [];
  const exportNames = [];
  const lines = source.split("\n").map((line) => {
    const imp = /^import \{([^}]*)\} from "([^"]+)";$/.exec(line);
    if (imp !== null) {
      importSpecs.push(imp[2]);
      const names = imp[1]
        .split(",")
        .map((n) => n.trim())
        .filter((n) => n !== "")
        .map((n) => {
          const m = /^([A-Za-z_$][\w$]*)(?: as ([A-Za-z_$][\w$]*))?$/.exec(n);
          if (m === null) throw new Error(`better-auth react module: cannot rewrite import of ${n}`);
          return m[2] === undefined ? m[1] : `${m[1]}: ${m[2]}`;
        });
      return `const { ${names.join(", ")} } = __imports[${JSON.stringify(imp[2])}];`;
    }
    const exp = /^export (function|const|let|class) ([A-Za-z_$][\w$]*)/.exec(line);
    if (exp !== null) {
      exportNames.push(exp[2]);
      return line.slice("export ".length);
    }
    if (/^\s*(import|export)\b/.test(line)) {
      throw new Error(`better-auth react module: unexpected module syntax: ${line}`);
    }
    return line;
  });
  if (!exportNames.includes("ConvexBetterAuthProvider")) {
    throw new Error("better-auth react module: no ConvexBetterAuthProvider export");
  }
  const imports = {};
  for (const spec of importSpecs) {
    if (!["react", "react/jsx-runtime", "convex/react"].includes(spec)) {
      throw new Error(`better-auth react module: unexpected import ${spec}`);
    }
    imports[spec] = spec === "convex/react" ? convexReact : await import(spec);
  }
  // Strict, like a module; the wrapper shares line 1 so line numbers match the file.
  const wrapped =
    `(function (__imports) { "use strict"; ${lines.join("\n")}\n` +
    `return { ${exportNames.join(", ")} };\n})`;
  const factory = vm.runInThisContext(wrapped, { filename: path });
  return () => factory(imports);
}

/** A fresh instance of `@convex-dev/better-auth/react` for one run. */
async function freshBetterAuthReact() {
  if (BETTER_AUTH_MODULE === "shared") {
    betterAuthShared ??= await import(BETTER_AUTH_REACT_URL);
    return betterAuthShared;
  }
  if (BETTER_AUTH_MODULE === "url") {
    betterAuthLoads += 1;
    return import(`${BETTER_AUTH_REACT_URL}?run=${betterAuthLoads}`);
  }
  betterAuthFactory ??= await compileBetterAuthReact();
  return betterAuthFactory();
}

const SESSION_STATES = new Set(["pending", "signed-in", "signed-out"]);

/** Depth-first (pre-order) search of a fiber and its siblings' subtrees. */
function findFiber(start, pred) {
  const stack = [start];
  while (stack.length > 0) {
    const f = stack.pop();
    if (f === null || f === undefined) continue;
    if (pred(f)) return f;
    stack.push(f.sibling, f.child);
  }
  return null;
}

/**
 * The useAuth() result as ConvexProviderWithAuth last committed it: the props
 * of its first child component that carries them (ConvexAuthStateFirstEffect:
 * authProviderLoading, authProviderAuthenticated, fetchAccessToken).
 */
function committedAuthHook(root) {
  const provider = findFiber(root.current, (f) => f.type === convexReact.ConvexProviderWithAuth);
  if (provider === null) return null;
  const effect = findFiber(provider.child, (f) => {
    const p = f.memoizedProps;
    return p !== null && typeof p === "object" && "authProviderAuthenticated" in p;
  });
  return effect === null ? null : effect.memoizedProps;
}

/** `[CONVEX Q(q:list)] Unauthenticated\n  Called by client` -> `Unauthenticated`. */
function queryErrorMessage(err) {
  const m = /^\[CONVEX [A-Z]\([^)]*\)\] ([\s\S]*?)\n {2}Called by client$/.exec(err?.message ?? "");
  return m ? m[1] : describeError(err);
}

function viewOf(result) {
  return result === undefined ? "loading" : { value: result ?? null };
}

export class ReactRun extends Run {
  mode = "react";

  constructor(schedule) {
    super(schedule);
    this.options = { reactAuto: true, ...this.options };
    this.components = (schedule.components ?? []).map((c) => {
      if (!GATES.has(c.gate ?? "none")) throw new Error(`component ${c.name}: unknown gate ${c.gate}`);
      return { name: c.name, query: c.query, gate: c.gate ?? "none", instances: c.instances ?? 1 };
    });
    this.app = { storeUser: false, ...(schedule.app ?? {}) };
    const p = schedule.provider ?? {};
    this.providerKind = p.kind ?? "hook";
    if (this.providerKind !== "hook" && this.providerKind !== "better-auth") {
      throw new Error(`unknown provider kind ${JSON.stringify(p.kind)}`);
    }
    /** better-auth mode state (null in the default mode). */
    this.ba = null;
    if (this.providerKind === "better-auth") this.ba = this.initBetterAuth(p);
    const isAuthenticated = p.isAuthenticated ?? false;
    this.providerState = {
      isLoading: p.isLoading ?? true,
      isAuthenticated,
      signedIn: p.signedIn ?? isAuthenticated,
      fetcher: 0,
    };
    this.providerListeners = new Set();
    this.fetchers = new Map();
    this.hostTasks = [];
  }

  /** convex/react of this run: the installed one, or a patched copy (`options.patches`). */
  async load() {
    const patches = this.options.patches ?? [];
    if (patches.length > 0 && this.ba !== null) {
      throw new Error("options.patches: not supported with provider kind better-auth (it imports the installed convex/react)");
    }
    installDom();
    try {
      this.convexReact = (await loadPatched(patches, "react")) ?? convexReact;
    } finally {
      removeDom();
    }
  }

  // --- the auth provider (a controllable useAuth hook) -------------------

  fetcher(gen) {
    if (!this.fetchers.has(gen)) {
      this.fetchers.set(gen, (args) => this.fetchToken(args));
    }
    return this.fetchers.get(gen);
  }

  setProvider(patch) {
    const next = { ...this.providerState, ...patch };
    if (patch.isAuthenticated !== undefined && patch.signedIn === undefined) {
      next.signedIn = patch.isAuthenticated;
    }
    this.providerState = next;
    this.emit({
      type: "providerState",
      isLoading: next.isLoading,
      isAuthenticated: next.isAuthenticated,
      signedIn: next.signedIn,
      fetcher: next.fetcher,
    });
    for (const l of [...this.providerListeners]) l();
  }

  // --- the better-auth provider kind -----------------------------------------

  initBetterAuth(p) {
    const state = p.session ?? "pending";
    if (!SESSION_STATES.has(state)) throw new Error(`provider.session: unknown state ${JSON.stringify(state)}`);
    const user = p.user ?? "A";
    if (typeof user !== "string" || !/^[^#]+$/.test(user)) throw new Error(`provider.user: bad user ${JSON.stringify(user)}`);
    const initialToken = p.initialToken ?? null;
    if (initialToken !== null) parseLabel(initialToken);
    const ba = {
      user,
      initialToken,
      /** Session ids handed out so far; a new one on every sign-in. */
      sessions: 0,
      session: null,
      snapshot: null,
      listeners: new Set(),
      /** authClient.convex.token() calls, in order. */
      requests: [],
      /** fetchAccessToken function -> its number, in order of first sight. */
      fetcherIds: new Map(),
      /** Real fetcher -> the traced wrapper handed to the client. */
      wrapped: new Map(),
      lastHook: null,
    };
    this.ba = ba;
    this.setSession(state, user, { emit: false, notify: false });
    return ba;
  }

  /** Replaces the fake Better Auth session (and its useSession snapshot). */
  setSession(state, user, { emit = true, notify = true } = {}) {
    const ba = this.ba;
    let session = { state, user: null, id: null };
    if (state === "signed-in") {
      ba.sessions += 1;
      session = { state, user, id: `session-${ba.sessions}` };
    }
    ba.session = session;
    // Better Auth's useSession value (a nanostores atom read with
    // useSyncExternalStore): `data` is null while pending and when signed
    // out; a new object on every change.
    ba.snapshot = {
      data: state === "signed-in" ? { session: { id: session.id }, user: { id: user } } : null,
      isPending: state === "pending",
      isRefetching: false,
      error: null,
    };
    if (emit) this.emitSession();
    if (notify) for (const l of [...ba.listeners]) l();
  }

  emitSession() {
    const { state, user, id } = this.ba.session;
    this.emit({ type: "betterAuthSession", state, user, sessionId: id });
  }

  fetcherId(fn) {
    const ids = this.ba.fetcherIds;
    if (!ids.has(fn)) ids.set(fn, ids.size);
    return ids.get(fn);
  }

  /** The fake `authClient`: only what ConvexBetterAuthProvider touches. */
  makeAuthClient() {
    const run = this;
    const ba = this.ba;
    const subscribe = (l) => {
      ba.listeners.add(l);
      return () => ba.listeners.delete(l);
    };
    const getSnapshot = () => ba.snapshot;
    const unexpected = (what) => run.emit({ type: "error", where: "authClient", message: `unexpected call ${what}` });
    return {
      useSession: () => React.useSyncExternalStore(subscribe, getSnapshot),
      convex: {
        // The convexClient() plugin's GET /convex/token. With
        // `fetchOptions: { throw: false }` Better Auth's fetch resolves
        // `{ data, error }` instead of throwing on an HTTP error.
        token: (opts) => {
          if (opts?.fetchOptions?.throw !== false) unexpected("authClient.convex.token without throw: false");
          const index = ba.requests.length;
          run.emit({ type: "betterAuthTokenRequest", index });
          return new Promise((resolve, reject) => {
            ba.requests.push({ index, resolve, reject, answered: false });
          });
        },
      },
      // Used by ConvexBetterAuthProvider only when the URL has an `ott`
      // parameter (cross-domain sign-in), which the harness never sets.
      getSession: async () => {
        unexpected("authClient.getSession");
        return { data: null, error: null };
      },
      updateSession: () => unexpected("authClient.updateSession"),
      crossDomain: {
        oneTimeToken: {
          verify: async () => {
            unexpected("authClient.crossDomain.oneTimeToken.verify");
            return { data: null, error: null };
          },
        },
      },
    };
  }

  /** The client's calls of the provider's fetchAccessToken, traced. */
  wrapFetchToken(fetchToken) {
    if (this.ba === null || typeof fetchToken !== "function") return fetchToken;
    const ba = this.ba;
    if (!ba.wrapped.has(fetchToken)) {
      const fetcher = this.fetcherId(fetchToken);
      ba.wrapped.set(fetchToken, (args) => {
        const index = this.tokenRequests.length;
        const forceRefreshToken = args?.forceRefreshToken ?? false;
        this.emit({ type: "tokenRequest", index, forceRefreshToken });
        const req = { index, forceRefreshToken, answered: false };
        this.tokenRequests.push(req);
        const result = fetchToken(args);
        // Registered before the client awaits `result`, so this runs first.
        Promise.resolve(result).then(
          (value) => {
            req.answered = true;
            this.emit({ type: "tokenResult", index, fetcher, token: value ? tokenLabel(value) : null });
          },
          (err) => {
            req.answered = true;
            this.emit({ type: "tokenResult", index, fetcher, error: describeError(err) });
          },
        );
        return result;
      });
    }
    return ba.wrapped.get(fetchToken);
  }

  /** After each commit: trace the provider hook's result when it changed. */
  observeCommit(root) {
    const p = committedAuthHook(root);
    if (p === null) return;
    const hook = {
      isLoading: p.authProviderLoading,
      isAuthenticated: p.authProviderAuthenticated,
      fetcher: this.fetcherId(p.fetchAccessToken),
    };
    const last = this.ba.lastHook;
    if (
      last !== null &&
      last.isLoading === hook.isLoading &&
      last.isAuthenticated === hook.isAuthenticated &&
      last.fetcher === hook.fetcher
    ) {
      return;
    }
    this.ba.lastHook = hook;
    this.emit({ type: "authHook", ...hook });
  }

  endExtra() {
    if (this.ba === null) return {};
    return {
      pendingBetterAuthTokenRequests: this.ba.requests.filter((r) => !r.answered).map((r) => r.index),
    };
  }

  async execute() {
    if (this.ba !== null) this.betterAuthReact = await freshBetterAuthReact();
    return super.execute();
  }

  // --- the app ------------------------------------------------------------

  buildApp() {
    const { ConvexProviderWithAuth, useConvexAuth, useQuery, useMutation, Authenticated } = this.convexReact;
    const run = this;
    const subscribeProvider = (l) => {
      run.providerListeners.add(l);
      return () => run.providerListeners.delete(l);
    };
    const getProvider = () => run.providerState;
    const useProvider = () => React.useSyncExternalStore(subscribeProvider, getProvider);
    const authClient = this.ba === null ? null : this.makeAuthClient();
    // The `provider` gate's signed-in flag: the provider's `signedIn`, or in
    // better-auth mode "the session data is non-null".
    const useSignedIn =
      authClient === null ? () => useProvider().signedIn : () => authClient.useSession().data !== null;

    // What an auth library's hook returns (Better Auth, Clerk, ...): the
    // session state and a fetchAccessToken whose identity changes only when
    // the schedule hands over a new one.
    function useAuthFromProvider() {
      const s = useProvider();
      return {
        isLoading: s.isLoading,
        isAuthenticated: s.isAuthenticated,
        fetchAccessToken: run.fetcher(s.fetcher),
      };
    }

    function AuthProbe() {
      const { isLoading, isAuthenticated } = useConvexAuth();
      React.useLayoutEffect(() => {
        run.emit({ type: "convexAuth", isLoading, isAuthenticated });
      }, [isLoading, isAuthenticated]);
      return null;
    }

    function useView(label, query, args) {
      let view;
      try {
        const r = useQuery(query, args);
        view = args === "skip" ? "skip" : viewOf(r);
      } catch (err) {
        view = { error: queryErrorMessage(err) };
      }
      const key = JSON.stringify(view);
      React.useLayoutEffect(() => {
        run.emit({ type: "view", component: label, state: view });
        // eslint-disable-next-line react-hooks/exhaustive-deps
      }, [key]);
      return view;
    }

    function Mounted({ label }) {
      React.useLayoutEffect(() => {
        run.emit({ type: "mount", component: label });
        return () => run.emit({ type: "unmount", component: label });
      }, [label]);
      return null;
    }

    function Gated({ label, c }) {
      const auth = useConvexAuth();
      const signedIn = useSignedIn();
      let args = {};
      if (c.gate === "provider") args = signedIn ? {} : "skip";
      if (c.gate === "convex-auth") args = auth.isAuthenticated ? {} : "skip";
      let currentUser;
      if (c.gate === "current-user") {
        // useCurrentUser as the Convex docs write it: users:current is queried
        // without a gate; open while isAuthenticated && user !== null (a
        // pending result is undefined, which is not null).
        const uc = useView(`${label}/users:current`, "users:current", {});
        currentUser = uc;
        const userIsNull = typeof uc === "object" && "value" in uc && uc.value === null;
        args = auth.isAuthenticated && !userIsNull ? {} : "skip";
      }
      void currentUser;
      useView(label, c.query, args);
      return h(Mounted, { label });
    }

    function Component({ label, c }) {
      const inner = h(Gated, { label, c });
      return c.gate === "authenticated" ? h(Authenticated, null, inner) : inner;
    }

    class Boundary extends React.Component {
      constructor(props) {
        super(props);
        this.state = { failed: false };
      }
      static getDerivedStateFromError() {
        return { failed: true };
      }
      componentDidCatch(err) {
        run.emit({ type: "error", where: `render ${this.props.label}`, message: describeError(err) });
      }
      render() {
        return this.state.failed ? null : this.props.children;
      }
    }

    function Root({ children }) {
      const { isAuthenticated } = useConvexAuth();
      const store = useMutation("users:store");
      React.useEffect(() => {
        if (!run.app.storeUser || !isAuthenticated) return;
        run.emit({ type: "storeUser" });
        store({}).then(
          () => run.emit({ type: "storeUserResult", success: true }),
          (err) => run.emit({ type: "storeUserResult", success: false, error: queryErrorMessage(err) }),
        );
      }, [isAuthenticated, store]);
      return children;
    }

    const client = this.reactClient;
    const children = [];
    for (const c of this.components) {
      for (let i = 0; i < c.instances; i++) {
        const label = i === 0 ? c.name : `${c.name}#${i + 1}`;
        children.push(h(Boundary, { key: label, label }, h(Component, { label, c })));
      }
    }
    if (authClient !== null) {
      const { ConvexBetterAuthProvider } = this.betterAuthReact;
      const initialToken =
        this.ba.initialToken === null ? null : encodeToken(this.ba.initialToken, this.options.tokenLifetimeSeconds);
      return function App() {
        return h(
          ConvexBetterAuthProvider,
          { client, authClient, initialToken },
          h(AuthProbe),
          h(Root, null, ...children),
        );
      };
    }
    return function App() {
      return h(
        ConvexProviderWithAuth,
        { client, useAuth: useAuthFromProvider },
        h(AuthProbe),
        h(Root, null, ...children),
      );
    };
  }

  // --- Run hooks ------------------------------------------------------------

  construct() {
    installDom();
    setHostSink((task) => this.hostTasks.push(task));
    if (this.ba !== null) {
      commitSink = (root) => this.observeCommit(root);
      this.emitSession();
    }
    const run = this;
    // ConvexReactClient creates its BaseConvexClient (and so the socket)
    // lazily, the first time anything reads `sync`; the subclass only traces
    // that moment and instruments the new client.
    class TracedReactClient extends this.convexReact.ConvexReactClient {
      get sync() {
        const fresh = run.base === null;
        if (fresh) run.emit({ type: "clientCreated" });
        const s = super.sync;
        if (fresh) {
          run.base = s;
          run.instrument(s);
        }
        return s;
      }
    }
    const opts = this.clientOptions();
    this.reactClient = new TracedReactClient(DEPLOYMENT_URL, opts);
    const App = this.buildApp();
    this.container = dom.window.document.createElement("div");
    dom.window.document.body.appendChild(this.container);
    this.root = createRoot(this.container, {
      onUncaughtError: (err) => this.error(err, "react uncaught"),
      onRecoverableError: (err) => this.error(err, "react recoverable"),
    });
    this.emit({ type: "render" });
    this.root.render(h(App));
  }

  get client() {
    return this.reactClient.sync;
  }

  runHostTask() {
    const task = this.hostTasks.shift();
    if (task === undefined) return false;
    try {
      task();
    } catch (err) {
      this.error(err, "react host task");
    }
    return true;
  }

  async settle() {
    await drain();
    if (!this.options.reactAuto) return;
    for (let i = 0; i < 10000 && this.runHostTask(); i++) {
      await drain();
    }
  }

  async finish() {
    if (this.options.reactAuto) return;
    // Manual mode: React work still queued is reported, not run.
    if (this.hostTasks.length > 0) this.emit({ type: "reactPending", tasks: this.hostTasks.length });
  }

  step(s) {
    switch (s.op) {
      case "session": {
        if (this.ba === null) return "session needs provider.kind better-auth";
        if (!SESSION_STATES.has(s.state)) return "session needs state pending/signed-in/signed-out";
        const user = s.user ?? this.ba.user;
        if (typeof user !== "string" || !/^[^#]+$/.test(user)) return "session: bad user";
        const cur = this.ba.session;
        if (s.state === cur.state && (s.state !== "signed-in" || user === cur.user)) return "session unchanged";
        this.setSession(s.state, user);
        return null;
      }
      case "answerBetterAuthToken": {
        if (this.ba === null) return "answerBetterAuthToken needs provider.kind better-auth";
        const req = this.ba.requests[s.request];
        if (req === undefined) return "no such Better Auth token request";
        if (req.answered) return "Better Auth token request already answered";
        if (s.token !== null && s.token !== undefined && s.token !== "throw") {
          try {
            parseLabel(s.token);
          } catch (err) {
            return describeError(err);
          }
        }
        req.answered = true;
        const token = s.token ?? null;
        this.emit({ type: "betterAuthTokenAnswer", index: req.index, token });
        if (token === "throw") req.reject(new Error("authClient.convex.token rejected (schedule)"));
        else if (token === null) {
          // What `throw: false` gives on a 401: no data, an error object.
          req.resolve({ data: null, error: { status: 401, statusText: "Unauthorized" } });
        } else {
          req.resolve({ data: { token: encodeToken(token, this.options.tokenLifetimeSeconds) }, error: null });
        }
        return null;
      }
      case "answerToken":
        if (this.ba !== null) return "answerToken does not apply in better-auth mode (the provider's fetcher is real)";
        return super.step(s);
      case "setAuth":
        if (this.ba !== null) return "setAuth does not apply in better-auth mode (the provider calls setAuth)";
        return super.step(s);
      case "provider": {
        if (this.ba !== null) return "provider does not apply in better-auth mode (use session)";
        const patch = {};
        for (const k of ["isLoading", "isAuthenticated", "signedIn"]) {
          if (typeof s[k] === "boolean") patch[k] = s[k];
        }
        if (Object.keys(patch).length === 0) return "provider needs isLoading/isAuthenticated/signedIn";
        this.setProvider(patch);
        return null;
      }
      case "newFetcher":
        if (this.ba !== null) return "newFetcher does not apply in better-auth mode (the provider makes its fetchers)";
        this.setProvider({ fetcher: this.providerState.fetcher + 1 });
        return null;
      case "online": {
        dom.window.dispatchEvent(new dom.window.Event("online"));
        return null;
      }
      case "react":
        if (this.options.reactAuto) return "React runs automatically (options.reactAuto)";
        return this.runHostTask() ? null : "no React work pending";
      default:
        return super.step(s);
    }
  }

  async teardown() {
    this.muted = true;
    try {
      // Unmount (effect cleanups call clearAuth/unsubscribe on the dead run's
      // fake sockets), let React finish, and terminate the client so its
      // window listener goes away. Nothing is awaited on the fake sockets.
      this.root?.unmount();
      for (let i = 0; i < 10000; i++) {
        await drain();
        if (!this.runHostTask()) break;
      }
      if (this.base !== null) void this.reactClient.close().catch(() => {});
      await drain();
      this.container?.remove();
    } catch (err) {
      process.stderr.write(`react teardown: ${describeError(err)}\n`);
    } finally {
      setHostSink(null);
      commitSink = null;
      removeDom();
    }
  }
}
