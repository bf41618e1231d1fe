// A small imitation of the Convex sync server (convex-backend `crates/sync`),
// reduced to what the auth lifecycle observes. One ServerConn per WebSocket;
// the users table, the database timestamp and token expiry are shared.
//
// Wire format: convex/src/browser/sync/protocol.ts (Transition versions carry
// `ts` as a base64-encoded little-endian u64; MutationResponse success too).

import { parseLabel, tokenLabel } from "./tokens.mjs";

const CLOSE_NO_STATUS = 1005; // Message::Close(None): AuthError / FatalError paths
const CLOSE_INTERNAL = 1011; // OperationalInternalServerError

/** Encodes a non-negative integer timestamp as protocol.ts `EncodedU64`. */
export function encodeTs(n) {
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64LE(BigInt(n));
  return buf.toString("base64");
}

export const IMPLICIT_FUNCTIONS = [
  // What `useCurrentUser` reads in the model: optional auth, reads `users`.
  { name: "users:current", auth: "optional", readsUsers: true },
];

const AUTH_KINDS = new Set(["none", "required", "optional", "user-row"]);

export class ServerConn {
  constructor(id) {
    this.id = id;
    /** Token label of the accepted identity, or null. */
    this.identity = null;
    /** Number of Authenticates accepted (the identity version). */
    this.identityVersion = 0;
    this.querySetVersion = 0;
    /** ts of the last Transition sent on this connection (0 before any). */
    this.ts = 0;
    /** queryId -> {udfPath, last} (last: the outcome last sent). */
    this.subs = new Map();
    /** The server closed this connection and reads no more frames. */
    this.closed = false;
    /** A Connect arrived: the connection knows the client's session id
     * (mutations on it are deduplicated by request id). */
    this.session = false;
  }
}

export class FakeServer {
  /**
   * @param {object} cfg
   * @param {Array<{name:string, auth:string, readsUsers?:boolean}>} cfg.functions
   * @param {object} cfg.options schedule options
   * @param {(ev: object) => void} cfg.emit trace sink
   * @param {(conn: number, frame: object) => void} cfg.push server -> client queue
   * @param {() => Iterable<ServerConn>} cfg.served connections the server still serves
   */
  constructor({ functions, options, emit, push, served }) {
    this.functions = new Map();
    for (const f of [...IMPLICIT_FUNCTIONS, ...(functions ?? [])]) {
      if (!AUTH_KINDS.has(f.auth)) {
        throw new Error(`function ${f.name}: unknown auth ${JSON.stringify(f.auth)}`);
      }
      this.functions.set(f.name, {
        name: f.name,
        auth: f.auth,
        readsUsers: f.readsUsers ?? (f.auth === "user-row" || f.name === "users:current"),
      });
    }
    this.emit = emit;
    this.push = push;
    this.served = served;
    /** Users whose row exists in `users`. */
    this.rows = new Set(options.users ?? []);
    /** Database timestamp; every Transition and commit takes a fresh one. */
    this.dbTs = 0;
    /** Tokens with an issue number <= expiredUpTo are expired (model: Token.seq). */
    this.expiredUpTo = options.expiredUpTo ?? -1;
    this.expiredTokens = new Set(options.expiredTokens ?? []);
    /** Request ids of this client's mutations that committed (convex-backend
     * `check_mutation_status` / `write_mutation_status`: keyed by session id
     * and request id; the harness has one client, hence one session). */
    this.committed = new Set();
  }

  /** Whether the identity on `conn` has expired (`revalidate_identity`). */
  identityExpired(conn) {
    return conn.identity !== null && this.isExpired(conn.identity);
  }

  /** `revalidate_identity` fails: AuthError{authUpdateAttempted:false}, close. */
  expiryFound(conn) {
    this.authErrorAndClose(conn, false, "Token expired");
  }

  isExpired(label) {
    if (this.expiredTokens.has(label)) return true;
    try {
      return parseLabel(label).seq <= this.expiredUpTo;
    } catch {
      return false;
    }
  }

  send(conn, frame, summary) {
    this.emit({ type: "serverSend", conn: conn.id, frame: summary });
    this.push(conn.id, frame);
  }

  close(conn, code, reason) {
    conn.closed = true;
    this.send(conn, { close: true, code, reason }, { type: "Close", code, reason });
  }

  authErrorAndClose(conn, authUpdateAttempted, error) {
    this.send(
      conn,
      {
        type: "AuthError",
        error,
        baseVersion: conn.identityVersion,
        authUpdateAttempted,
      },
      { type: "AuthError", authUpdateAttempted, baseVersion: conn.identityVersion },
    );
    this.close(conn, CLOSE_NO_STATUS, "");
  }

  fatalErrorAndClose(conn, error) {
    this.send(conn, { type: "FatalError", error }, { type: "FatalError", error });
    this.close(conn, CLOSE_NO_STATUS, "");
  }

  /** Evaluates a query for the connection's identity. */
  evaluate(conn, udfPath) {
    const f = this.functions.get(udfPath);
    const identity = conn.identity;
    const user = identity === null ? null : parseLabel(identity).user;
    let result;
    if (f === undefined) {
      result = { ok: false, error: "FunctionNotFound" };
    } else if (f.auth === "none") {
      result = { ok: true, value: "public" };
    } else if (f.auth === "required") {
      result = user === null ? { ok: false, error: "Unauthenticated" } : { ok: true, value: user };
    } else if (f.auth === "optional") {
      if (user === null || (f.readsUsers && !this.rows.has(user))) {
        result = { ok: true, value: null };
      } else {
        result = { ok: true, value: user };
      }
    } else {
      // user-row
      if (user === null) result = { ok: false, error: "Unauthenticated" };
      else if (!this.rows.has(user)) result = { ok: false, error: "UserRowMissing" };
      else result = { ok: true, value: user };
    }
    const outcome = !result.ok
      ? result.error
      : result.value === null
        ? "null"
        : `value:${result.value}`;
    this.emit({ type: "serverEval", conn: conn.id, udfPath, identity, outcome });
    return { ...result, outcome };
  }

  modification(queryId, r) {
    return r.ok
      ? { type: "QueryUpdated", queryId, value: r.value, logLines: [], journal: null }
      : {
          type: "QueryFailed",
          queryId,
          errorMessage: r.error,
          logLines: [],
          journal: null,
        };
  }

  /** Builds and sends one Transition; `results`: [{queryId, udfPath, r|null}]. */
  transition(conn, { identityVersion, querySetVersion, results }) {
    const start = {
      querySet: conn.querySetVersion,
      identity: conn.identityVersion,
      ts: encodeTs(conn.ts),
    };
    this.dbTs += 1;
    const end = { querySet: querySetVersion, identity: identityVersion, ts: encodeTs(this.dbTs) };
    const summary = {
      type: "Transition",
      startIdentity: conn.identityVersion,
      endIdentity: identityVersion,
      startQuerySet: conn.querySetVersion,
      endQuerySet: querySetVersion,
      results: results.map(({ queryId, udfPath, r }) =>
        r === null ? { queryId, udfPath, removed: true } : { queryId, udfPath, outcome: r.outcome },
      ),
    };
    conn.identityVersion = identityVersion;
    conn.querySetVersion = querySetVersion;
    conn.ts = this.dbTs;
    this.send(
      conn,
      {
        type: "Transition",
        startVersion: start,
        endVersion: end,
        modifications: results.map(({ queryId, r }) =>
          r === null ? { type: "QueryRemoved", queryId } : this.modification(queryId, r),
        ),
        clientClockSkew: 0,
      },
      summary,
    );
  }

  /** Re-runs subscriptions selected by `which`; returns the changed results. */
  rerun(conn, which) {
    const changed = [];
    for (const [queryId, sub] of conn.subs) {
      if (!which(sub.udfPath)) continue;
      const r = this.evaluate(conn, sub.udfPath);
      if (sub.last !== r.outcome) changed.push({ queryId, udfPath: sub.udfPath, r });
      sub.last = r.outcome;
    }
    return changed;
  }

  /**
   * Handles one client frame (already JSON-parsed). `reject`: the schedule
   * says this Authenticate's token is rejected.
   */
  receive(conn, msg, { reject }) {
    switch (msg.type) {
      case "Connect":
        conn.session = true;
        return;
      case "Event":
        return;
      case "Authenticate": {
        let identity = null;
        if (msg.tokenType === "User") {
          const label = tokenLabel(msg.value);
          if (reject || this.isExpired(label)) {
            this.authErrorAndClose(
              conn,
              true,
              reject ? "Token rejected by the schedule" : "Token expired",
            );
            return;
          }
          identity = label;
        } else if (msg.tokenType !== "None") {
          this.close(conn, CLOSE_INTERNAL, "InternalServerError: unsupported tokenType");
          return;
        }
        if (msg.baseVersion !== conn.identityVersion) {
          this.close(conn, CLOSE_INTERNAL, "InternalServerError");
          return;
        }
        conn.identity = identity;
        const results = this.rerun(conn, () => true);
        this.transition(conn, {
          identityVersion: conn.identityVersion + 1,
          querySetVersion: conn.querySetVersion,
          results,
        });
        return;
      }
      case "ModifyQuerySet": {
        // The update it schedules revalidates the identity first.
        if (this.identityExpired(conn)) {
          this.expiryFound(conn);
          return;
        }
        if (msg.baseVersion !== conn.querySetVersion) {
          this.fatalErrorAndClose(
            conn,
            `InvalidQuerySetVersion: base ${msg.baseVersion} != ${conn.querySetVersion}`,
          );
          return;
        }
        const results = [];
        for (const m of msg.modifications) {
          if (m.type === "Add") {
            const r = this.evaluate(conn, m.udfPath);
            conn.subs.set(m.queryId, { udfPath: m.udfPath, last: r.outcome });
            results.push({ queryId: m.queryId, udfPath: m.udfPath, r });
          } else {
            const sub = conn.subs.get(m.queryId);
            conn.subs.delete(m.queryId);
            results.push({ queryId: m.queryId, udfPath: sub?.udfPath ?? null, r: null });
          }
        }
        this.transition(conn, {
          identityVersion: conn.identityVersion,
          querySetVersion: msg.newVersion,
          results,
        });
        return;
      }
      case "Mutation":
        this.mutation(conn, msg);
        return;
      case "Action":
        this.send(
          conn,
          { type: "ActionResponse", requestId: msg.requestId, success: true, result: null, logLines: [] },
          { type: "ActionResponse", requestId: msg.requestId, success: true },
        );
        return;
      default:
        this.close(conn, CLOSE_INTERNAL, `InternalServerError: unknown message ${msg.type}`);
    }
  }

  mutation(conn, msg) {
    // `Mutation`: `revalidate_identity()` before anything else.
    if (this.identityExpired(conn)) {
      this.expiryFound(conn);
      return;
    }
    const identity = conn.identity;
    const user = identity === null ? null : parseLabel(identity).user;
    const summary = (success) => ({
      type: "MutationResponse",
      requestId: msg.requestId,
      udfPath: msg.udfPath,
      success,
    });
    const success = (ts) => ({
      type: "MutationResponse",
      requestId: msg.requestId,
      success: true,
      result: null,
      ts: encodeTs(ts),
      logLines: [],
    });
    if (conn.session && this.committed.has(msg.requestId)) {
      // `_retry_mutation`: a request that committed before returns its stored
      // result and runs nothing; the update that follows every mutation moves
      // the connection past the commit.
      this.emit({ type: "serverMutation", conn: conn.id, udfPath: msg.udfPath, identity, outcome: "stored" });
      this.send(conn, success(this.dbTs), summary(true));
      this.transition(conn, {
        identityVersion: conn.identityVersion,
        querySetVersion: conn.querySetVersion,
        results: [],
      });
      return;
    }
    if (msg.udfPath === "users:store" && user === null) {
      this.emit({ type: "serverMutation", conn: conn.id, udfPath: msg.udfPath, identity, outcome: "Unauthenticated" });
      this.send(
        conn,
        { type: "MutationResponse", requestId: msg.requestId, success: false, result: "Unauthenticated", logLines: [] },
        summary(false),
      );
      return;
    }
    let newRow = false;
    if (msg.udfPath === "users:store") {
      newRow = !this.rows.has(user);
      this.rows.add(user);
    }
    if (conn.session) this.committed.add(msg.requestId);
    this.emit({
      type: "serverMutation",
      conn: conn.id,
      udfPath: msg.udfPath,
      identity,
      outcome: msg.udfPath === "users:store" ? (newRow ? "inserted" : "exists") : "ok",
    });
    this.dbTs += 1;
    this.send(conn, success(this.dbTs), summary(true));
    this.usersTableChanged(conn, newRow);
  }

  /**
   * A commit (by a mutation on `mutating`, or null) that changed `users`
   * when `wrote`: every served connection with a subscription that reads
   * `users` re-runs it, after the update revalidates the identity; a
   * connection gets a Transition when a result changed, and the mutating
   * one always does (its view must pass the commit's timestamp to resolve
   * the mutation). A commit that wrote nothing invalidates nothing.
   */
  usersTableChanged(mutating, wrote) {
    const reads = (p) => this.functions.get(p)?.readsUsers === true;
    for (const c of this.served()) {
      const invalidated = wrote && [...c.subs.values()].some((sub) => reads(sub.udfPath));
      if (!invalidated && c !== mutating) continue;
      if (this.identityExpired(c)) {
        this.expiryFound(c);
        continue;
      }
      const results = invalidated ? this.rerun(c, reads) : [];
      if (results.length > 0 || c === mutating) {
        this.transition(c, {
          identityVersion: c.identityVersion,
          querySetVersion: c.querySetVersion,
          results,
        });
      }
    }
  }

  /** The auth provider's webhook (an HTTP action) inserts `user`'s row; the
   * commit re-runs what reads `users` on every served connection. Returns
   * null, or why the step does not apply. */
  webhook(user) {
    if (this.rows.has(user)) return `${user}'s row exists`;
    this.rows.add(user);
    this.dbTs += 1;
    this.usersTableChanged(null, true);
    return null;
  }

  /** Time: the token of `conn`'s identity expires, with every token issued
   * before it; the server sends nothing until it next revalidates. */
  tokenExpires(conn) {
    const label = conn.identity;
    try {
      this.expiredUpTo = Math.max(this.expiredUpTo, parseLabel(label).seq);
    } catch {
      this.expiredTokens.add(label);
    }
  }

  /** The expiry and its discovery in one step (eager `serverExpire`). */
  expire(conn) {
    this.tokenExpires(conn);
    this.expiryFound(conn);
  }
}
