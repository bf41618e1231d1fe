// In-memory WebSockets. Every socket the client constructs is a numbered
// connection (0, 1, 2, ...) with one FIFO queue per direction. Nothing moves
// on its own: schedule steps open sockets, let the fake server read the next
// client frame, deliver the next server frame, complete a client-initiated
// close, or drop a connection.

import { ServerConn } from "./server.mjs";
import { tokenLabel } from "./tokens.mjs";

export const CONNECTING = 0;
export const OPEN = 1;
export const CLOSING = 2;
export const CLOSED = 3;

/** Trace summary of a client -> server frame (the JSON the client wrote). */
export function summarizeClientFrame(msg) {
  switch (msg.type) {
    case "Connect":
      return { type: "Connect" };
    case "Authenticate":
      return msg.tokenType === "User"
        ? { type: "Authenticate", tokenType: "User", value: tokenLabel(msg.value), baseVersion: msg.baseVersion }
        : { type: "Authenticate", tokenType: msg.tokenType, baseVersion: msg.baseVersion };
    case "ModifyQuerySet":
      return {
        type: "ModifyQuerySet",
        baseVersion: msg.baseVersion,
        newVersion: msg.newVersion,
        modifications: msg.modifications.map((m) =>
          m.type === "Add"
            ? { type: "Add", queryId: m.queryId, udfPath: m.udfPath }
            : { type: "Remove", queryId: m.queryId },
        ),
      };
    case "Mutation":
    case "Action":
      return { type: msg.type, requestId: msg.requestId, udfPath: msg.udfPath };
    case "Event":
      return { type: "Event", eventType: msg.eventType };
    default:
      return { type: String(msg.type) };
  }
}

export class Conn {
  constructor(id, ws) {
    this.id = id;
    this.ws = ws;
    this.readyState = CONNECTING;
    /** Client -> server frames (parsed JSON), oldest first. */
    this.up = [];
    /** Server -> client frames (protocol objects or {close, code, reason}). */
    this.down = [];
    this.server = new ServerConn(id);
    /** The WebSocket handshake completed (onopen fired). */
    this.opened = false;
  }
}

export class Network {
  /**
   * @param {object} run
   * @param {(ev: object) => void} run.emit
   * @param {(err: unknown, where: string) => void} run.error
   */
  constructor(run) {
    this.run = run;
    /** @type {Conn[]} */
    this.conns = [];
    this.WebSocket = makeWebSocketClass(this);
  }

  register(ws) {
    const conn = new Conn(this.conns.length, ws);
    this.conns.push(conn);
    this.run.emit({ type: "socketCreated", conn: conn.id });
    return conn;
  }

  conn(id) {
    return Number.isInteger(id) ? this.conns[id] : undefined;
  }

  /** Connections the server still serves (opened, not closed by anyone). */
  *served() {
    for (const c of this.conns) {
      if (c.opened && c.readyState !== CLOSED && !c.server.closed) yield c.server;
    }
  }

  dispatch(ws, handler, event, where) {
    const fn = ws[handler];
    if (typeof fn !== "function") return;
    try {
      fn.call(ws, event);
    } catch (err) {
      this.run.error(err, where);
    }
  }

  /** Fires onclose and forgets everything in flight on the connection. */
  finishClose(conn, code, reason, wasClean) {
    conn.readyState = CLOSED;
    conn.ws.readyState = CLOSED;
    conn.up = [];
    conn.down = [];
    this.run.emit({ type: "closed", conn: conn.id, code });
    this.dispatch(conn.ws, "onclose", { type: "close", code, reason, wasClean }, `conn ${conn.id} onclose`);
  }

  // --- called by the client through FakeWebSocket -----------------------

  clientSend(conn, data) {
    if (conn.readyState === CONNECTING) {
      const err = new Error("Failed to execute 'send' on 'WebSocket': Still in CONNECTING state.");
      err.name = "InvalidStateError";
      throw err;
    }
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      msg = { type: "<unparseable>" };
    }
    if (conn.readyState !== OPEN) {
      // Browsers silently discard data sent on a closing/closed socket.
      this.run.emit({ type: "sendDiscarded", conn: conn.id, frame: summarizeClientFrame(msg) });
      return;
    }
    this.run.emit({ type: "send", conn: conn.id, frame: summarizeClientFrame(msg) });
    conn.up.push(msg);
  }

  clientClose(conn) {
    if (conn.readyState === CLOSING || conn.readyState === CLOSED) return;
    this.run.emit({ type: "clientClose", conn: conn.id });
    conn.wasConnecting = conn.readyState === CONNECTING;
    conn.readyState = CLOSING;
    conn.ws.readyState = CLOSING;
  }

  // --- schedule steps ----------------------------------------------------

  /** The newest socket still connecting (or conn `id`) completes its handshake. */
  open(id) {
    const candidates = this.conns.filter((c) => c.readyState === CONNECTING);
    const conn = id === undefined ? candidates[candidates.length - 1] : candidates.find((c) => c.id === id);
    if (conn === undefined) return "no connecting socket";
    conn.readyState = OPEN;
    conn.ws.readyState = OPEN;
    conn.opened = true;
    this.run.emit({ type: "opened", conn: conn.id });
    this.dispatch(conn.ws, "onopen", { type: "open" }, `conn ${conn.id} onopen`);
    return null;
  }

  /** The fake server handles the next client frame on `id`. */
  serverReceive(id, reject, server) {
    const conn = this.conn(id);
    if (conn === undefined) return "no such connection";
    if (conn.server.closed) return "server closed this connection";
    if (conn.up.length === 0) return "no client frame in flight";
    const msg = conn.up[0];
    if (reject && !(msg.type === "Authenticate" && msg.tokenType === "User")) {
      return "reject applies only to Authenticate with a User token";
    }
    conn.up.shift();
    this.run.emit({ type: "serverRecv", conn: conn.id, frame: summarizeClientFrame(msg), reject: !!reject });
    server.receive(conn.server, msg, { reject: !!reject });
    if (conn.server.closed) conn.up = [];
    return null;
  }

  /** Server -> client queue (called by the fake server). */
  push(id, frame) {
    this.conns[id].down.push(frame);
  }

  /** Delivers the next server frame on `id` to the client. */
  clientReceive(id) {
    const conn = this.conn(id);
    if (conn === undefined) return "no such connection";
    if (conn.readyState === CLOSED) return "socket closed";
    if (conn.down.length === 0) return "no server frame in flight";
    const frame = conn.down.shift();
    if (frame.close === true) {
      this.run.emit({ type: "deliver", conn: conn.id, frame: { type: "Close", code: frame.code } });
      this.finishClose(conn, frame.code, frame.reason, true);
      return null;
    }
    const ignored = conn.readyState !== OPEN;
    this.run.emit(
      ignored
        ? { type: "deliver", conn: conn.id, frame: { type: frame.type }, ignored: true }
        : { type: "deliver", conn: conn.id, frame: { type: frame.type } },
    );
    if (!ignored) {
      this.dispatch(conn.ws, "onmessage", { type: "message", data: JSON.stringify(frame) }, `conn ${conn.id} onmessage`);
    }
    return null;
  }

  /** A client-initiated close completes (frames still in flight are lost). */
  closeComplete(id) {
    const conn = this.conn(id);
    if (conn === undefined) return "no such connection";
    if (conn.readyState !== CLOSING) return "no client-initiated close pending";
    // Frames the client wrote before ws.close() reach the server before the
    // close does; and a server that closed first delivers its own close.
    if (conn.up.length > 0 && !conn.server.closed) return "frames in flight to the server arrive before the close";
    if (conn.server.closed) return "the server closed first: its close frame is in flight";
    if (conn.wasConnecting) {
      this.dispatch(conn.ws, "onerror", { type: "error" }, `conn ${conn.id} onerror`);
      this.finishClose(conn, 1006, "", false);
    } else {
      this.finishClose(conn, 1005, "", true);
    }
    return null;
  }

  /** The connection breaks: code 1006, everything in flight both ways lost. */
  drop(id) {
    const conn = this.conn(id);
    if (conn === undefined) return "no such connection";
    if (conn.readyState === CLOSED) return "socket already closed";
    conn.server.closed = true;
    this.dispatch(conn.ws, "onerror", { type: "error" }, `conn ${conn.id} onerror`);
    this.finishClose(conn, 1006, "", false);
    return null;
  }

  summary() {
    const names = ["connecting", "open", "closing", "closed"];
    return this.conns.map((c) => ({
      conn: c.id,
      state: names[c.readyState],
      serverClosed: c.server.closed,
      identity: c.server.identity,
      identityVersion: c.server.identityVersion,
      up: c.up.length,
      down: c.down.length,
    }));
  }
}

function makeWebSocketClass(network) {
  return class FakeWebSocket {
    static CONNECTING = CONNECTING;
    static OPEN = OPEN;
    static CLOSING = CLOSING;
    static CLOSED = CLOSED;
    CONNECTING = CONNECTING;
    OPEN = OPEN;
    CLOSING = CLOSING;
    CLOSED = CLOSED;

    constructor(url, protocols) {
      this.url = String(url);
      this.protocol = "";
      this.extensions = "";
      this.binaryType = "blob";
      this.bufferedAmount = 0;
      this.readyState = CONNECTING;
      this.onopen = null;
      this.onmessage = null;
      this.onclose = null;
      this.onerror = null;
      void protocols;
      this._conn = network.register(this);
    }

    send(data) {
      network.clientSend(this._conn, data);
    }

    close(code, reason) {
      void code;
      void reason;
      network.clientClose(this._conn);
    }

    addEventListener() {
      throw new Error("FakeWebSocket.addEventListener is not implemented (convex uses on* handlers)");
    }

    removeEventListener() {}
  };
}
