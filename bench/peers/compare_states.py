#!/usr/bin/env python3
"""Compares the reachable states of seed.pml with those of the Rust model.

Usage: compare_states.py SPIN_OUTPUT RUST_DUMP

SPIN_OUTPUT: the output of a pan built from `spin -a -o2 -DDUMP [-DFIXED]
seed.pml` and `gcc -DPRINTF`: one `S ...` line per executed step (the state
it reached), plus the initial state.

RUST_DUMP: the output of bench/peers/rust-dump (RAW=1): one line per unique
state, `STATE <n> depth=<d> [via <action>] <Debug of authrace::model::State>`.

Each SPIN line is rendered in the Debug format of the Rust `State` (the
fields the Promela port leaves out are filled with their constant seed
values), `Meta(..)` bookkeeping is blanked on both sides, and the two sets
are compared. Exit status 0 when they are equal.
"""
import re
import sys

OUT = {1: "Value { for_user: Some(0), null: false }", 2: "Failed(Unauthenticated)"}
CONT = ["SetConfig", "SetConfigRefetch", "Refetch", "Reauth"]
PEND = ["None", "Set(None)", "Set(Some(false))", "Set(Some(true))", "FirstCleanup"]
OPT_BOOL = ["None", "Some(false)", "Some(true)"]
SESSION = ["Loading", "SignedIn(0)", "SignedOut"]


def b(x):
    return "true" if int(x) else "false"


def opt(v):
    """0 = None, n+1 = Some(n)"""
    v = int(v)
    return "None" if v == 0 else f"Some({v - 1})"


def tok(v):
    v = int(v)
    return "None" if v == 0 else f"Some(Token {{ user: 0, seq: {v - 1} }})"


def token(v):
    return f"Token {{ user: 0, seq: {int(v) - 1} }}"


def ws(kind, conn, paused):
    kind, conn, paused = int(kind), int(conn), int(paused)
    if kind == 0:
        return "Uncreated"
    if kind == 1:
        return "Disconnected"
    if kind == 2:
        return f"Connecting {{ conn: {conn}, paused: {b(paused)} }}"
    if kind == 3:
        return f"Ready {{ conn: {conn}, paused: {['No', 'Yes', 'Uninitialized'][paused]} }}"
    return ["Stopped", "Terminated"][kind - 4]


def auth_state(a, flag, tk):
    a = int(a)
    return [
        "NoAuth",
        f"WaitingForServerConfirmationOfCachedToken {{ has_retried: {b(flag)} }}",
        "InitialRefetch",
        f"WaitingForServerConfirmationOfFreshToken {{ had_auth: {b(flag)}, token: {token(tk) if int(tk) else '?'} }}",
        f"WaitingForScheduledRefetch {{ timer: {b(flag)} }}",
        "NotRefetching",
    ][a]


def mods(md):
    md = int(md)
    kind, q = md & 3, md >> 2
    if kind == 0:
        return "[]"
    if kind == 1:
        return f"[Add({q}, 0)]"
    return f"[Remove({q})]"


def up_frame(kind, t, base, new, md):
    kind = int(kind)
    if kind == 1:
        f = "Connect"
    elif kind == 2:
        f = f"Authenticate {{ token: {tok(t)}, base: {base} }}"
    else:
        f = f"ModifyQuerySet {{ base: {base}, new: {new}, mods: {mods(md)} }}"
    # no sign-out in the seed: every stamp is empty
    return f"Sent {{ frame: {f}, signed_out_at_send: 0 }}"


def down_frame(kind, start, end, q, o, first):
    assert int(kind) == 1
    res = f"[({q}, Some({OUT[int(o)]}))]" if int(o) else "[]"
    return f"Transition {{ start: {start}, end: {end}, results: {res}, first: {b(first)} }}"


def rendered(hl, ha, hf, rs, ia, il, mo, ac):
    return (
        f"Rendered {{ hook: Hook {{ loading: {b(hl)}, authenticated: {b(ha)}, fetcher: {hf} }}, "
        f"session: {SESSION[int(rs)]}, is_authenticated: {b(ia)}, is_loading: {b(il)}, "
        f"mounted: {mo}, active: {ac} }}"
    )


def via(kind, req, cookie):
    kind = int(kind)
    if kind == 0:
        return "Memory"
    if kind == 1:
        return f"Network {{ req: {req}, cookie: {opt(cookie)} }}"
    return "Deferred"


def render(line):
    parts = dict(p.split("=", 1) for p in line.split()[1:])
    p = parts["p"].split(",")
    a = parts["a"].split(",")
    e = parts["e"].split(",")
    c = parts["c"].split(",")
    f = parts["f"].split(",")
    n = parts["n"].split(",")
    s = parts["s"].split(",")
    t = parts["t"]
    m = parts["m"].split(",")
    up = [x.split(".") for x in parts["up"].split(";") if x]
    down = [x.split(".") for x in parts["down"].split(";") if x]

    # Fields the port leaves out, with their constant seed values: the
    # backend session is A's, no SSR token, no user actions, A's account.
    (session, inflight, next_req, fetcher, issued, cached, last) = p
    provider = (
        f"Provider {{ session: {SESSION[int(session)]}, backend: Some(0), inflight: {opt(inflight)}, "
        f"next_req: {next_req}, fetcher: {fetcher}, issued: {issued}, cached: {tok(cached)}, "
        f"last: {tok(last)}, initial: None, used: 0, accounts: 1 }}"
    )
    (is_rendered, hl, ha, hf, rs, ia, il, mo, ac, ca, pe, aa) = a
    committed = "None" if not int(is_rendered) else f"Some({rendered(hl, ha, hf, rs, ia, il, mo, ac)})"
    (has_effects, has_prev, *prev) = e
    if not int(has_effects):
        effects = "None"
    elif not int(has_prev):
        effects = "Some(Effects { prev: None })"
    else:
        effects = f"Some(Effects {{ prev: Some({rendered(*prev)}) }})"
    app = (
        f"App {{ committed: {committed}, effects: {effects}, convex_auth: {OPT_BOOL[int(ca)]}, "
        f"pending: {PEND[int(pe)]}, signed_out: 0, authenticated_as: {'Some(0)' if int(aa) else 'None'} }}"
    )
    (wsk, wsc, wsp, next_conn, cauth, iv, paused, cq, cqid, cqsubs, nextq, qsv, pend, pendq, rem,
     remq, remo, remfrom, view, cas, casflag, castok, cblive) = c
    queries = f"[LocalQuery {{ f: 0, id: {cqid}, subscribers: {cqsubs} }}]" if int(cq) else "[]"
    pending = "[]" if int(pend) == 0 else mods((int(pendq) << 2) | int(pend))
    remote = f"[({remq}, {OUT[int(remo)]})]" if int(rem) else "[]"
    viewl = f"[(0, {OUT[int(view)]})]" if int(view) else "[]"
    (fsome, fcur, fforced, fcont, fvia, freq, fcookie, fans, ftok) = f
    fetches = (
        f"[Fetch {{ request: Meta(_), current: {b(fcur)}, forced: {b(fforced)}, cont: {CONT[int(fcont)]}, "
        f"via: {via(fvia, freq, fcookie)}, "
        f"answer: {('Some(Token(' + tok(ftok) + '))') if int(fans) else 'None'} }}]"
        if int(fsome)
        else "[]"
    )
    client = (
        f"Client {{ ws: {ws(wsk, wsc, wsp)}, next_conn: {next_conn}, closing: [], "
        f"auth: {tok(cauth)}, identity_version: {iv}, paused: {b(paused)}, queries: {queries}, "
        f"next_query: {nextq}, query_set_version: {qsv}, pending: {pending}, remote: {remote}, "
        f"remote_from: {opt(remfrom)}, view: {viewl}, auth_state: {auth_state(cas, casflag, castok)}, "
        f"attempts: 0, callbacks_live: {b(cblive)}, fetches: {fetches}, requests: [], "
        f"next_request: 0, token_requests: Meta(_) }}"
    )
    (nconn, nid, nopened) = n
    (sident, sver, sqsv, ssent, ssub, ssubq, ssublast, sclosed, ssession) = s
    if int(nconn):
        subs = f"[({ssubq}, 0, Some({OUT[int(ssublast)]}))]" if int(ssub) else "[]"
        net = (
            f"[Conn {{ id: {nid}, opened: {b(nopened)}, up: [{', '.join(up_frame(*x) for x in up)}], "
            f"down: [{', '.join(down_frame(*x) for x in down)}], server: ServerConn {{ identity: {tok(sident)}, "
            f"version: {sver}, query_set_version: {sqsv}, sent_transition: {b(ssent)}, subs: {subs}, "
            f"closed: {b(sclosed)}, session: {b(ssession)}, update_pending: false }} }}]"
        )
    else:
        net = "[]"
    return (
        f"State {{ provider: {provider}, client: {client}, app: {app}, "
        f"server: Server {{ rows: 0, committed: [] }}, "
        f"net: {net}, budgets: Budgets {{ socket_drops: 0, refreshes: 255, expiries: 0, reject_tokens: 0, "
        f"transient_null: 0 }}, expired_upto: None, expiring_upto: {opt(t)}, violations: {m[0]}, "
        f"triggered: {m[1]}, anomaly: None }}"
    )


def compare(render, spin_file, rust_file, shown=5):
    """Renders the `S ...` lines of SPIN_FILE with `render`, compares them
    with the `STATE` lines of RUST_FILE (`Meta(..)` blanked), prints the
    counts and the first `shown` differences on each side, and exits 0 when
    the two sets are equal. Shared with compare_scale.py."""
    spin = {render(l.strip()) for l in open(spin_file) if l.startswith("S ")}
    rust = set()
    for l in open(rust_file):
        if not l.startswith("STATE "):
            continue
        st = l[l.index("State {"):].strip()
        rust.add(re.sub(r"Meta\(\d+\)", "Meta(_)", st))
    only_spin, only_rust = spin - rust, rust - spin
    print(f"spin_states={len(spin)} rust_states={len(rust)} common={len(spin & rust)} "
          f"only_spin={len(only_spin)} only_rust={len(only_rust)}")
    for x in sorted(only_spin)[:shown]:
        print("ONLY SPIN:", x)
    for x in sorted(only_rust)[:shown]:
        print("ONLY RUST:", x)
    sys.exit(0 if not only_spin and not only_rust else 1)


def main():
    compare(render, sys.argv[1], sys.argv[2])


if __name__ == "__main__":
    main()
