#!/usr/bin/env python3
"""Compares the reachable states of scale.pml with those of the Rust model.

Usage: compare_scale.py SPIN_OUTPUT RUST_DUMP

SPIN_OUTPUT: the output of a pan built from `spin -a -o2 -DDUMP
-DINSTANCES=.. -DDROPS=.. -DREFRESHES=.. -DREJECTS=.. scale.pml` and `gcc
-DPRINTF`: one `S ...` line per step (the state it reached), plus the
initial state.

RUST_DUMP: the output of bench/peers/rust-dump (RAW=1) for the same
scenario: one line per unique state, `STATE <n> depth=<d> [via <action>]
<Debug of authrace::model::State>`.

Each SPIN line is rendered in the Debug format of the Rust `State` (the
fields scale.pml leaves out are filled with their constant values),
`Meta(..)` bookkeeping is blanked on both sides, and the two sets are
compared. Exit status 0 when they are equal.
"""
import sys

# The tables and helpers both ports render alike, and the comparison.
from compare_states import CONT, OPT_BOOL, OUT, PEND, SESSION, b, compare, opt, tok, token, ws

ANOMALY = ["None", "Some(ConfigReadInNoAuth)", "Some(ConfigLost)"]


def auth_state(a, flag):
    return [
        "NoAuth",
        "WaitingForServerConfirmationOfCachedToken { has_retried: false }",
        "InitialRefetch",
        "WaitingForServerConfirmationOfFreshToken { had_auth: false, token: Token { user: 0, seq: 0 } }",
        f"WaitingForScheduledRefetch {{ timer: {b(flag)} }}",
        "NotRefetching",
    ][int(a)]


def qmod(m):
    m = int(m)
    kind, q = m & 3, m >> 2
    return f"Add({q}, 0)" if kind == 1 else f"Remove({q})"


def up_frame(kind, t, base, new, nm, m1, m2, st):
    kind = int(kind)
    if kind == 1:
        f = "Connect"
    elif kind == 2:
        f = f"Authenticate {{ token: {tok(t)}, base: {base} }}"
    else:
        mods = [qmod(m) for m in [m1, m2][: int(nm)]]
        f = f"ModifyQuerySet {{ base: {base}, new: {new}, mods: [{', '.join(mods)}] }}"
    return f"Sent {{ frame: {f}, signed_out_at_send: {st} }}"


def result(q, o):
    o = int(o)
    return f"({q}, {'Some(' + OUT[o] + ')' if o else 'None'})"


def down_frame(kind, s, e, nr, q1, o1, q2, o2, f):
    kind = int(kind)
    if kind == 1:
        res = [result(q1, o1), result(q2, o2)][: int(nr)]
        return f"Transition {{ start: {s}, end: {e}, results: [{', '.join(res)}], first: {b(f)} }}"
    if kind == 2:
        return f"AuthError {{ update_attempted: {b(f)}, base: {s} }}"
    if kind == 3:
        return "FatalError"
    assert kind == 5
    return "Close"


def rendered(ha, hf, sess, ia, il, act, allmask):
    return (
        f"Rendered {{ hook: Hook {{ loading: false, authenticated: {b(ha)}, fetcher: {hf} }}, "
        f"session: {SESSION[int(sess)]}, is_authenticated: {b(ia)}, is_loading: {b(il)}, "
        f"mounted: {allmask}, active: {allmask if int(act) else 0} }}"
    )


def items(s, sep):
    return [x.split(".") for x in s.split(sep) if x]


def conn(text):
    head, up, down = text.split(":")
    (cid, opened, ident, ver, qsv, sent, sub, subq, subo, closed, session, upd) = head.split(".")
    ups = ", ".join(up_frame(*x) for x in items(up, ","))
    downs = ", ".join(down_frame(*x) for x in items(down, ","))
    subs = f"[({subq}, 0, Some({OUT[int(subo)]}))]" if int(sub) else "[]"
    return (
        f"Conn {{ id: {cid}, opened: {b(opened)}, up: [{ups}], down: [{downs}], "
        f"server: ServerConn {{ identity: {tok(ident)}, version: {ver}, query_set_version: {qsv}, "
        f"sent_transition: {b(sent)}, subs: {subs}, closed: {b(closed)}, session: {b(session)}, "
        f"update_pending: {b(upd)} }} }}"
    )


def via(kind, req, cookie):
    kind = int(kind)
    if kind == 0:
        return "Memory"
    if kind == 1:
        return f"Network {{ req: {req}, cookie: {'Some(0)' if int(cookie) else 'None'} }}"
    return "Deferred"


def fetch(cur, forced, cont, v, req, cookie, ans, t):
    answer = f"Some(Token({tok(t)}))" if int(ans) else "None"
    return (
        f"Fetch {{ request: Meta(_), current: {b(cur)}, forced: {b(forced)}, cont: {CONT[int(cont)]}, "
        f"via: {via(v, req, cookie)}, answer: {answer} }}"
    )


def render(line):
    parts = dict(p.split("=", 1) for p in line.split()[1:])
    (session, backend, inflight, next_req, fetcher, issued, cached, last, used) = parts["p"].split(",")
    provider = (
        f"Provider {{ session: {SESSION[int(session)]}, backend: {'Some(0)' if int(backend) else 'None'}, "
        f"inflight: {opt(inflight)}, next_req: {next_req}, fetcher: {fetcher}, issued: {issued}, "
        f"cached: {tok(cached)}, last: {tok(last)}, initial: None, used: {used}, accounts: 1 }}"
    )
    (is_r, ha, hf, sess, ia, il, act, has_eff, has_prev, eha, ehf, esess, eia, eil, eact,
     conv, pend, signed_out, auth_as, inst) = parts["a"].split(",")
    allmask = (1 << int(inst)) - 1
    committed = f"Some({rendered(ha, hf, sess, ia, il, act, allmask)})" if int(is_r) else "None"
    if not int(has_eff):
        effects = "None"
    elif not int(has_prev):
        effects = "Some(Effects { prev: None })"
    else:
        effects = f"Some(Effects {{ prev: Some({rendered(eha, ehf, esess, eia, eil, eact, allmask)}) }})"
    app = (
        f"App {{ committed: {committed}, effects: {effects}, convex_auth: {OPT_BOOL[int(conv)]}, "
        f"pending: {PEND[int(pend)]}, signed_out: {signed_out}, "
        f"authenticated_as: {'Some(0)' if int(auth_as) else 'None'} }}"
    )
    (wsk, wsc, wsp, next_conn, cauth, iv, paused, cq, cqid, cqsubs, nextq, qsv, rem, remq, remo,
     remfrom, view, cas, casflag, attempts, cblive, anomaly, texp) = parts["c"].split(",")
    closing = ", ".join(f"({c}, {w})" for c, w in items(parts["cl"], ";"))
    pending = ", ".join(qmod(m[0]) for m in items(parts["pm"], ";"))
    queries = f"[LocalQuery {{ f: 0, id: {cqid}, subscribers: {cqsubs} }}]" if int(cq) else "[]"
    remote = f"[({remq}, {OUT[int(remo)]})]" if int(rem) else "[]"
    viewl = f"[(0, {OUT[int(view)]})]" if int(view) else "[]"
    fetches = ", ".join(fetch(*x) for x in items(parts["f"], ";"))
    client = (
        f"Client {{ ws: {ws(wsk, wsc, wsp)}, next_conn: {next_conn}, closing: [{closing}], "
        f"auth: {tok(cauth)}, identity_version: {iv}, paused: {b(paused)}, queries: {queries}, "
        f"next_query: {nextq}, query_set_version: {qsv}, pending: [{pending}], remote: {remote}, "
        f"remote_from: {opt(remfrom)}, view: {viewl}, auth_state: {auth_state(cas, casflag)}, "
        f"attempts: {attempts}, callbacks_live: {b(cblive)}, fetches: [{fetches}], requests: [], "
        f"next_request: 0, token_requests: Meta(_) }}"
    )
    net = ", ".join(conn(x) for x in parts["n"].split(";") if x)
    (drops, refr, rej) = parts["b"].split(",")
    (viol, trig) = parts["m"].split(",")
    return (
        f"State {{ provider: {provider}, client: {client}, app: {app}, "
        f"server: Server {{ rows: 0, committed: [] }}, net: [{net}], "
        f"budgets: Budgets {{ socket_drops: {drops}, refreshes: {refr}, expiries: 0, "
        f"reject_tokens: {rej}, transient_null: 0 }}, expired_upto: None, "
        f"expiring_upto: {opt(texp)}, violations: {viol}, triggered: {trig}, "
        f"anomaly: {ANOMALY[int(anomaly)]} }}"
    )


def main():
    compare(render, sys.argv[1], sys.argv[2], shown=3)


if __name__ == "__main__":
    main()
