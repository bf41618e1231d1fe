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

import { JSDOM } from "jsdom";
import { drain, installEnvironment, installHostTaskCapture, setHostSink } from "./env.mjs";
import { DEPLOYMENT_URL, Run, describeError } from "./harness.mjs";

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
installDom();
const React = (await import("react")).default;
const { createRoot } = await import("react-dom/client");
const convexReact = await import("convex/react");
removeDom();

const { ConvexReactClient, ConvexProviderWithAuth, useConvexAuth, useQuery, useMutation, Authenticated } =
  convexReact;
const h = React.createElement;

const GATES = new Set(["none", "provider", "convex-auth", "authenticated", "current-user"]);

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

  // --- the app ------------------------------------------------------------

  buildApp() {
    const run = this;
    const subscribeProvider = (l) => {
      run.providerListeners.add(l);
      return () => run.providerListeners.delete(l);
    };
    const getProvider = () => run.providerState;
    const useProvider = () => React.useSyncExternalStore(subscribeProvider, getProvider);

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
      const provider = useProvider();
      let args = {};
      if (c.gate === "provider") args = provider.signedIn ? {} : "skip";
      if (c.gate === "convex-auth") args = auth.isAuthenticated ? {} : "skip";
      let currentUser;
      if (c.gate === "current-user") {
        // useCurrentUser: users:current once authenticated; open unless the row is null.
        const uc = useView(`${label}/users:current`, "users:current", auth.isAuthenticated ? {} : "skip");
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
    const run = this;
    // ConvexReactClient creates its BaseConvexClient (and so the socket)
    // lazily, the first time anything reads `sync`; the subclass only traces
    // that moment and instruments the new client.
    class TracedReactClient extends ConvexReactClient {
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
      case "provider": {
        const patch = {};
        for (const k of ["isLoading", "isAuthenticated", "signedIn"]) {
          if (typeof s[k] === "boolean") patch[k] = s[k];
        }
        if (Object.keys(patch).length === 0) return "provider needs isLoading/isAuthenticated/signedIn";
        this.setProvider(patch);
        return null;
      }
      case "newFetcher":
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
      removeDom();
    }
  }
}
