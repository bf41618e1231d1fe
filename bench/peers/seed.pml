/*
 * seed.pml -- a Promela port of authrace's model for the seed scenario
 * (models/seed-better-auth-ungated.toml), for a peer comparison with SPIN.
 *
 * Scenario: Better Auth provider, session `loading` at the first render, no
 * SSR token, one component OrganizationsList calling
 * `queries:listOrganizations` (auth = "required"); no fault budgets, no user
 * actions, expectAuth = false, initialAuthTokenReuse = false, no users.store.
 *
 *   default      gate = "none"        (the seed: query-runs-authenticated is violated)
 *   -DFIXED      gate = "convex-auth" (subscribes only once
 *                                      useConvexAuth().isAuthenticated is true)
 *   -DDUMP       with pan compiled -DPRINTF: every step prints the state it
 *                reaches (compare.sh / compare_states.py use it to compare the
 *                reachable states with authrace's); use spin -a -o2 with it,
 *                see "write-only variables" in README.md
 *   -DNOASSERT   the property is recorded (viol) but not asserted, so pan
 *                explores the full state space of the violating variant too
 *                (pan -c0 does the same with the assertion in place)
 *   -DSCRATCH_VISIBLE  scratch variables in the state vector (zeroed after
 *                every step) instead of hidden: needed by pan -DBFS
 *
 * Abstraction: the same as the Rust model (src/model/), restricted to what
 * the seed configuration can reach. The global state below mirrors
 * `State` field by field (src/model/mod.rs). Fields that are constant in the
 * seed (fault budgets, expiry clocks, sign-out bookkeeping, the users table,
 * mutation requests, closing sockets, reauth waiters, anomaly, the SSR token)
 * are left out. Lists that never hold more than one entry in the seed become
 * one slot each: one function, so at most one local query, one server
 * subscription, one remote result and one view entry; at most one token
 * request in flight; one connection (conn 0: nothing ever closes or drops
 * it). The two network queues of that connection are Promela channels (FIFO,
 * capacity 4, never reached). Every branch of the Rust code the seed cannot
 * take is guarded by an assert (`assert(UNREACHABLE)` or an assert on the
 * condition), so a run that reaches one fails instead of silently diverging.
 *
 * Each Rust `Action` enabled in the seed is ONE `d_step` of the single
 * process `authrace` below, so one pan transition = one stateright step and
 * pan stores exactly the global states stateright does (no intermediate
 * states).  The per-step property marks of the Rust model
 * (`State::violations`, `State::triggered`, cleared at the start of every
 * step, see `AuthModel::step`) are kept as `viol` / `trig`, since they are
 * part of the Rust state's identity and split states.
 */

/* ---------------------------------------------------------------- values */

#define UNREACHABLE 0   /* assert(UNREACHABLE): a path the seed never takes */

/* Option<bool> (convex_auth) */
#define O_NONE   0
#define O_FALSE  1
#define O_TRUE   2

/* app::Pending */
#define P_NONE          0
#define P_SET_NONE      1
#define P_SET_FALSE     2
#define P_SET_TRUE      3
#define P_FIRST_CLEANUP 4

/* provider::Session (user A only: no switch_user) */
#define S_LOADING   0
#define S_SIGNED_IN 1   /* SignedIn(A) */

/* Tokens: 0 = none/null, n+1 = tok(A#n) (user A: the only user of the seed) */
#define NO_TOKEN 0

/* client::Ws */
#define WS_UNCREATED    0
#define WS_DISCONNECTED 1
#define WS_CONNECTING   2
#define WS_READY        3
#define WS_STOPPED      4
#define WS_TERMINATED   5
/* client::Paused of a ready socket (a connecting socket uses 0/1 = no/yes) */
#define RP_NO     0
#define RP_YES    1
#define RP_UNINIT 2

/* client::AuthState */
#define AS_NO_AUTH         0
#define AS_WAIT_CACHED     1   /* WaitingForServerConfirmationOfCachedToken{has_retried} */
#define AS_INITIAL_REFETCH 2
#define AS_WAIT_FRESH      3   /* WaitingForServerConfirmationOfFreshToken{had_auth, token} */
#define AS_WAIT_SCHEDULED  4   /* WaitingForScheduledRefetch{timer} */
#define AS_NOT_REFETCHING  5

/* client::Cont */
#define K_SET_CONFIG         0
#define K_SET_CONFIG_REFETCH 1
#define K_REFETCH            2
#define K_REAUTH             3

/* msg::Outcome (of the one function, auth = "required") ; 0 = no entry */
#define OUT_NONE   0
#define OUT_VAL_A  1   /* Value { for_user: Some(A), null: false } */
#define OUT_UNAUTH 2   /* Failed(Unauthenticated) */

/* msg::ClientFrame kinds */
#define CF_CONNECT 1
#define CF_AUTH    2   /* Authenticate { token, base } */
#define CF_MQS     3   /* ModifyQuerySet { base, new, mods } */
/* one QueryMod (at most one per ModifyQuerySet in the seed): 0 = none */
#define MOD_NONE 0
#define MOD_ADD  1     /* Add(q, listOrganizations); the id travels in `q` */
#define MOD_REM  2

/* msg::ServerFrame kinds (AuthError, FatalError, StoreResponse, Close are
 * unreachable in the seed) */
#define SF_TRANSITION 1

/* property bits, as PropertyId::bit() */
#define QRA 1   /* query-runs-authenticated (PropertyId 0) */
#define SA  8   /* stable-auth (PropertyId 3) */

/* ---------------------------------------------------------------- state */

/* Provider (provider.rs `Provider`; `initial` is None: no SSR token; `used`
 * stays 0: no user actions) */
byte p_session = S_LOADING;
byte p_fetcher = 0;        /* generation of fetchAccessToken */
byte p_issued = 0;         /* next token issue number */
byte p_cached = NO_TOKEN;
byte p_last = NO_TOKEN;

/* App (app.rs `App`; committed = Option<Rendered>) */
bit  a_rendered = 0;       /* committed.is_some() */
bit  r_hook_loading; bit r_hook_auth; byte r_hook_fetcher;
byte r_session; bit r_is_auth; bit r_is_loading; bit r_mounted; bit r_active;
byte a_convex_auth = O_NONE;
byte a_pending = P_NONE;
bit  a_auth_as = 0;        /* authenticated_as == Some(A) */

/* Client (client.rs `Client`) */
byte c_ws = WS_UNCREATED;
byte c_ws_conn = 0;        /* conn of Connecting / Ready */
byte c_ws_paused = 0;      /* Connecting: 0/1; Ready: RP_* */
byte c_next_conn = 0;
byte c_auth = NO_TOKEN;    /* LocalSyncState auth token */
byte c_iv = 0;             /* identity_version */
bit  c_paused = 0;         /* LocalSyncState paused */
bit  c_q = 0;              /* queries: the LocalQuery of listOrganizations */
byte c_q_id; byte c_q_subs;
byte c_next_query = 0;
byte c_qsv = 0;            /* query_set_version */
byte c_pend = MOD_NONE;    /* pending (parked) mods: one slot */
byte c_pend_q;
bit  c_rem = 0;            /* remote: one (QueryId, Outcome) */
byte c_rem_q; byte c_rem_o;
byte c_rem_from = 0;       /* remote_from: 0 = None, conn+1 */
byte c_view = OUT_NONE;    /* view: (listOrganizations, Outcome) or none */
byte c_as = AS_NO_AUTH;    /* auth_state */
bit  c_as_flag = 0;        /* has_retried / had_auth / timer */
byte c_as_tok = NO_TOKEN;  /* token of WaitingForServerConfirmationOfFreshToken */
byte c_attempts = 0;
bit  c_cb_live = 0;        /* callbacks_live */
bit  c_f = 0;              /* fetches: one slot */
bit  c_f_current; bit c_f_forced; byte c_f_cont; bit c_f_answered; byte c_f_tok;

/* Network + server (server.rs `Conn`, `ServerConn`): the seed opens one
 * connection (id 0) and never closes or drops it. */
bit  n_conn = 0;           /* net holds the connection */
byte n_id = 0;
bit  n_opened = 0;
chan up   = [4] of { byte, byte, byte, byte, byte };  /* kind, token, base, new, mod(q<<2|MOD) */
chan down = [4] of { byte, byte, byte, byte, byte, bit }; /* kind, start, end, q, outcome, first */
byte s_identity = NO_TOKEN;
byte s_version = 0;
byte s_qsv = 0;
bit  s_sent_tr = 0;
bit  s_sub = 0;            /* subs: one (QueryId, FnIdx, Option<Outcome>) */
byte s_sub_q; byte s_sub_last;
bit  s_closed = 0;

/* State::violations / State::triggered: marks of the step that reached the state */
byte viol = 0;
byte trig = 0;

/* Scratch for the body of a step: hidden, so never part of the state
 * vector. pan's BFS (-DBFS) refuses hidden variables: spin -DSCRATCH_VISIBLE
 * keeps them in the state vector instead, and every step zeroes them at its
 * end (CLEAR_SCRATCH), so they cannot split states either way. */
#ifdef SCRATCH_VISIBLE
#define HIDDEN
#else
#define HIDDEN hidden
#endif
HIDDEN byte x_t, x_b, x_nw, x_md, x_k, x_st, x_en, x_q, x_o, x_fst;
HIDDEN byte h_conv, h_prev_rendered, h_prev_auth, h_deps, h_was_mounted, h_was_active;
HIDDEN byte h_prev_hook_auth, h_new_is_auth, h_sent;
#define CLEAR_SCRATCH x_t = 0; x_b = 0; x_nw = 0; x_md = 0; x_k = 0; x_st = 0; x_en = 0; \
    x_q = 0; x_o = 0; x_fst = 0; h_conv = 0; h_prev_rendered = 0; h_prev_auth = 0; \
    h_deps = 0; h_was_mounted = 0; h_was_active = 0; h_prev_hook_auth = 0; \
    h_new_is_auth = 0; h_sent = 0

/* ---------------------------------------------------------- render (pure) */

/* Provider::hook (better-auth, no SSR token: c0 = false) */
#define HOOK_LOADING (p_session == S_LOADING)
#define HOOK_AUTH    (p_session == S_SIGNED_IN)
/* Pending::apply(convex_auth) */
#define CONV0 (a_pending == P_NONE -> a_convex_auth : \
              (a_pending == P_SET_NONE -> O_NONE : \
              (a_pending == P_SET_FALSE -> O_FALSE : \
              (a_pending == P_SET_TRUE -> O_TRUE : \
              (a_convex_auth == O_TRUE -> O_FALSE : O_NONE)))))
/* ConvexProviderWithAuth's render-phase adjustments (State::render) */
#define CONV1 ((HOOK_LOADING && CONV0 != O_NONE) -> O_NONE : CONV0)
#define CONV  ((!HOOK_LOADING && !HOOK_AUTH && CONV1 != O_FALSE) -> O_FALSE : CONV1)
#define IS_AUTH    (HOOK_AUTH && CONV == O_TRUE)
#define IS_LOADING (CONV == O_NONE)
#define MOUNTED 1
#ifdef FIXED
#define ACTIVE IS_AUTH          /* Gate::ConvexAuth: useQuery(fn, isAuthenticated ? {} : "skip") */
#else
#define ACTIVE 1                /* Gate::None */
#endif

/* State::needs_commit */
#define NEEDS_COMMIT (!a_rendered || a_pending != P_NONE || \
    r_hook_loading != HOOK_LOADING || r_hook_auth != HOOK_AUTH || \
    r_hook_fetcher != p_fetcher || r_session != p_session || \
    r_is_auth != IS_AUTH || r_is_loading != IS_LOADING || \
    r_mounted != MOUNTED || r_active != ACTIVE)

/* ------------------------------------------------------------ client parts */

/* WebSocketManager.sendMessage (State::send): sent only when ready and not
 * paused, else dropped. */
inline send(kk, tt, bb, nn, mm) {
    if
    :: c_ws == WS_READY && c_ws_paused == RP_NO ->
        assert(n_conn && n_id == c_ws_conn && len(up) < 4);
        up!kk, tt, bb, nn, mm; h_sent = 1
    :: else -> h_sent = 0
    fi
}

/* WebSocketManager.connect() (State::ws_connect) */
inline ws_connect() {
    assert(!n_conn);   /* the seed connects once */
    n_id = c_next_conn; c_next_conn++;
    n_conn = 1; n_opened = 0;
    c_ws = WS_CONNECTING; c_ws_conn = n_id; c_ws_paused = 0
}

/* ConvexReactClient.sync (State::client_sync); expectAuth = false */
inline client_sync() {
    if
    :: c_ws == WS_UNCREATED -> ws_connect()
    :: else -> skip
    fi
}

/* BaseConvexClient pauseSocket (State::pause_socket) */
inline pause_socket() {
    if
    :: c_ws == WS_CONNECTING -> c_ws_paused = 1
    :: c_ws == WS_READY -> c_ws_paused = RP_YES
    :: else -> skip
    fi;
    c_paused = 1
}

/* BaseConvexClient onOpen (State::on_open) */
inline on_open() {
    send(CF_CONNECT, 0, 0, 0, 0);
    c_rem = 0; c_rem_q = 0; c_rem_o = 0; c_rem_from = 0;
    c_paused = 0;
    c_pend = MOD_NONE; c_pend_q = 0;
    c_iv = (c_auth != NO_TOKEN -> 1 : 0);
    if
    :: c_auth != NO_TOKEN -> send(CF_AUTH, c_auth, 0, 0, 0)
    :: else -> skip
    fi;
    c_qsv = 1;
    if
    :: c_q -> send(CF_MQS, 0, 0, 1, (c_q_id << 2) | MOD_ADD)
    :: else -> send(CF_MQS, 0, 0, 1, MOD_NONE)
    fi
    /* RequestManager.restart(): no requests in the seed */
}

/* BaseConvexClient onResume (State::on_resume) */
inline on_resume() {
    x_md = c_pend; x_q = c_pend_q;
    c_pend = MOD_NONE; c_pend_q = 0;
    if
    :: x_md != MOD_NONE -> x_b = c_qsv; c_qsv++
    :: else -> skip
    fi;
    if
    :: c_auth != NO_TOKEN -> x_nw = c_iv; c_iv++
    :: else -> skip
    fi;
    c_paused = 0;
    if
    :: c_auth != NO_TOKEN -> send(CF_AUTH, c_auth, x_nw, 0, 0)
    :: else -> skip
    fi;
    if
    :: x_md != MOD_NONE -> send(CF_MQS, 0, x_b, x_b + 1, (x_q << 2) | x_md)
    :: else -> skip
    fi
}

/* WebSocketManager.resume() (State::resume_socket) */
inline resume_socket() {
    if
    :: c_ws == WS_CONNECTING -> c_ws_paused = 0
    :: c_ws == WS_READY && c_ws_paused == RP_UNINIT -> c_ws_paused = RP_NO; on_open()
    :: c_ws == WS_READY && c_ws_paused == RP_YES -> c_ws_paused = RP_NO; on_resume()
    :: else -> skip
    fi
}

/* BaseConvexClient.subscribe -> LocalSyncState.subscribe (State::client_subscribe) */
inline client_subscribe() {
    client_sync();
    if
    :: c_q -> c_q_subs++
    :: else ->
        c_q = 1; c_q_id = c_next_query; c_q_subs = 1; c_next_query++;
        if
        :: c_paused -> assert(c_pend == MOD_NONE); c_pend = MOD_ADD; c_pend_q = c_q_id
        :: else -> x_b = c_qsv; c_qsv++; send(CF_MQS, 0, x_b, x_b + 1, (c_q_id << 2) | MOD_ADD)
        fi
    fi
}

/* setAuthState (State::set_auth_state) */
inline set_auth_state(s, fl, tk) {
    if
    :: s == AS_WAIT_SCHEDULED || s == AS_NOT_REFETCHING || s == AS_NO_AUTH -> c_attempts = 0
    :: else -> skip
    fi;
    c_as = s; c_as_flag = fl; c_as_tok = tk
}

/* fetchTokenAndGuardAgainstRace up to its await (State::start_fetch) */
inline start_fetch(forced, cont) {
    /* every fetch in flight becomes stale; in the seed none is in flight */
    assert(!c_f);
    c_f = 1; c_f_current = 1; c_f_forced = forced; c_f_cont = cont;
    c_f_answered = 0; c_f_tok = NO_TOKEN
}

/* client.setAuth -> AuthenticationManager.setConfig up to its await (State::client_set_auth) */
inline client_set_auth() {
    client_sync();
    set_auth_state(AS_NO_AUTH, 0, NO_TOKEN);
    pause_socket();
    c_cb_live = 1;
    start_fetch(0, K_SET_CONFIG)
}

/* the authenticate callback: LocalSyncState.setAuth + send (State::authenticate) */
inline authenticate(tk) {
    c_auth = tk;
    x_b = c_iv;
    if
    :: !c_paused -> c_iv++
    :: else -> skip
    fi;
    send(CF_AUTH, tk, x_b, 0, 0)
}

/* the onChange callback of setAuth (State::on_auth_change) ->
 * setIsConvexAuthenticated(() => v), composed by Pending::then */
inline on_auth_change_true() {
    if
    :: c_cb_live -> a_pending = P_SET_TRUE
    :: else -> skip
    fi
}

/* AuthenticationManager.onTransition (State::auth_on_transition) */
inline auth_on_transition(s0, e0) {
    if
    :: e0 < c_iv -> skip         /* stale */
    :: e0 >= c_iv && e0 <= s0 -> skip   /* not a response to Authenticate */
    :: e0 >= c_iv && e0 > s0 ->
        if
        :: c_as == AS_WAIT_CACHED ->
            /* initialAuthTokenReuse = false: refetchToken (State::refetch_token) */
            assert(c_as != AS_NO_AUTH);
            start_fetch(1, K_REFETCH);
            on_auth_change_true()
        :: c_as == AS_WAIT_FRESH ->
            /* scheduleTokenRefetch (State::schedule_token_refetch) */
            set_auth_state(AS_WAIT_SCHEDULED, 1, NO_TOKEN);
            c_attempts = 0;
            on_auth_change_true()
        :: else -> skip
        fi
    fi
}

/* notifyOnQueryResultChanges (State::refresh_view) */
inline refresh_view() {
    c_view = ((c_rem && c_q && c_q_id == c_rem_q) -> c_rem_o : OUT_NONE)
}

/* ------------------------------------------------------------ server parts */

/* State::evaluate of listOrganizations (auth = "required") */
inline evaluate(ident, out) {
    trig = trig | QRA;
    if
    :: ident == NO_TOKEN -> out = OUT_UNAUTH; viol = viol | QRA
    :: else -> out = OUT_VAL_A
    fi
}

/* State::server_send of a Transition: `first` stamped at send */
inline send_transition(s0, e0, qq, oo) {
    assert(len(down) < 4);
    down!SF_TRANSITION, s0, e0, qq, oo, !s_sent_tr;
    s_sent_tr = 1
}

/* ------------------------------------------------------------------- React */

/* State::commit: React renders with the current inputs and commits; the
 * passive effects run (all cleanups, then all setups). */
inline commit() {
    h_conv = CONV;
    h_prev_rendered = a_rendered;
    h_prev_auth = r_is_auth;
    h_prev_hook_auth = r_hook_auth;
    h_was_mounted = r_mounted;
    h_was_active = r_active;
    h_deps = (!a_rendered || r_hook_loading != HOOK_LOADING || r_hook_auth != HOOK_AUTH
              || r_hook_fetcher != p_fetcher);
    h_new_is_auth = IS_AUTH;
    /* committed = new render */
    r_is_auth = IS_AUTH;
    r_is_loading = IS_LOADING;
    r_active = ACTIVE;
    r_mounted = MOUNTED;
    r_hook_loading = HOOK_LOADING; r_hook_auth = HOOK_AUTH; r_hook_fetcher = p_fetcher;
    r_session = p_session;
    a_convex_auth = h_conv;
    a_pending = P_NONE;
    a_rendered = 1;
    /* stable-auth: true -> false while signed in as the same user */
    if
    :: h_prev_rendered && h_prev_auth && !h_new_is_auth && a_auth_as && p_session == S_SIGNED_IN ->
        viol = viol | SA
    :: else -> skip
    fi;
    if
    :: h_new_is_auth -> trig = trig | SA; a_auth_as = (p_session == S_SIGNED_IN)
    :: else -> skip
    fi;
    /* no sign-out in the seed: signed_out stays empty */
    /* cleanup phase: First/LastEffect cleanups run only when a hook that was
     * authenticated changes; never in the seed (the hook changes once, from
     * loading). No component ever unmounts. */
    assert(!(h_deps && h_prev_rendered && h_prev_hook_auth));
    /* setup phase: ConvexAuthStateFirstEffect's setAuth */
    if
    :: h_deps && r_hook_auth -> client_set_auth()
    :: else -> skip
    fi;
    /* the component (useQuery) */
    if
    :: !h_was_mounted || !h_prev_rendered ->
        if
        :: r_active -> client_subscribe()
        :: else -> skip
        fi
    :: else ->
        if
        :: r_active && !h_was_active -> client_subscribe()
        :: !r_active && h_was_active -> assert(UNREACHABLE)   /* unsubscribe */
        :: else -> skip
        fi
    fi
}

/* ---------------------------------------------------------------- steps */

#ifdef DUMP
/* One line per step: the state the step reached, every field above, the
 * queues in order (rotated once through, which restores them). Compile pan
 * with -DPRINTF to see it; bench/peers/compare_states.py renders these lines
 * in the Debug format of the Rust `State` and compares the two sets. */
hidden byte d_i, d_1, d_2, d_3, d_4, d_5, d_6;
inline dump() {
    printf("S p=%d,%d,%d,%d,%d a=%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d ",
        p_session, p_fetcher, p_issued, p_cached, p_last,
        a_rendered, r_hook_loading, r_hook_auth, r_hook_fetcher, r_session, r_is_auth,
        r_is_loading, r_mounted, r_active, a_convex_auth, a_pending, a_auth_as);
    printf("c=%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,",
        c_ws, c_ws_conn, c_ws_paused, c_next_conn, c_auth, c_iv, c_paused,
        c_q, c_q_id, c_q_subs, c_next_query, c_qsv, c_pend, c_pend_q, c_rem);
    printf("%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d ",
        c_rem_q, c_rem_o, c_rem_from, c_view,
        c_as, c_as_flag, c_as_tok, c_attempts, c_cb_live,
        c_f, c_f_current, c_f_forced, c_f_cont, c_f_answered, c_f_tok, 0);
    printf("n=%d,%d,%d s=%d,%d,%d,%d,%d,%d,%d,%d m=%d,%d up=",
        n_conn, n_id, n_opened,
        s_identity, s_version, s_qsv, s_sent_tr, s_sub, s_sub_q, s_sub_last, s_closed, viol, trig);
    d_i = len(up);
    do
    :: d_i > 0 -> up?d_1, d_2, d_3, d_4, d_5; printf("%d.%d.%d.%d.%d;", d_1, d_2, d_3, d_4, d_5);
                  up!d_1, d_2, d_3, d_4, d_5; d_i--
    :: else -> break
    od;
    printf(" down=");
    d_i = len(down);
    do
    :: d_i > 0 -> down?d_1, d_2, d_3, d_4, d_5, d_6;
                  printf("%d.%d.%d.%d.%d.%d;", d_1, d_2, d_3, d_4, d_5, d_6);
                  down!d_1, d_2, d_3, d_4, d_5, d_6; d_i--
    :: else -> break
    od;
    printf("\n");
    d_i = 0; d_1 = 0; d_2 = 0; d_3 = 0; d_4 = 0; d_5 = 0; d_6 = 0
}
#define DUMP_STATE dump()
/* the initial state is the only one not yet rendered: print it too */
#define DUMP_INIT if :: !a_rendered -> dump() :: else -> skip fi
#else
#define DUMP_STATE skip
#define DUMP_INIT skip
#endif

#ifdef NOASSERT
#define CHECK skip
#else
/* query-runs-authenticated: no function requiring auth is evaluated with no identity */
#define CHECK assert(!(viol & QRA))
#endif

/* AuthModel::step: the marks of the previous step are cleared first */
#define BEGIN viol = 0; trig = 0

active proctype authrace()
{
end:
    do
    /* Action::Commit -- State::commit (app.rs), enabled by State::needs_commit */
    :: d_step { NEEDS_COMMIT -> DUMP_INIT; BEGIN; commit(); CLEAR_SCRATCH; CHECK; DUMP_STATE }

    /* Action::ProviderResolves -- State::provider_resolves (provider.rs):
     * session loads as A; Better Auth re-renders synchronously (render_now) */
    :: d_step { a_rendered && p_session == S_LOADING ->
        BEGIN;
        /* Provider::change_session: a new user drops the cached token and,
         * for Better Auth, rebuilds fetchAccessToken */
        p_session = S_SIGNED_IN; p_cached = NO_TOKEN; p_fetcher++;
        a_auth_as = 0;   /* effective user changed */
        do
        :: NEEDS_COMMIT -> commit()
        :: else -> break
        od;
        CLEAR_SCRATCH; CHECK; DUMP_STATE }

    /* Action::ProviderAnswers -- State::provider_answers (provider.rs): the
     * only token source reachable here is Source::Network(A) (no SSR token,
     * forced_refresh = new): a new token is issued */
    :: d_step { a_rendered && c_f && !c_f_answered ->
        BEGIN;
        x_t = p_issued + 1; p_issued++; p_cached = x_t; p_last = x_t;
        c_f_answered = 1; c_f_tok = x_t;
        CLEAR_SCRATCH; CHECK; DUMP_STATE }

    /* Action::ClientTokenResolves -- State::token_resolves (client.rs) */
    :: d_step { c_f && c_f_answered ->
        BEGIN;
        x_t = c_f_tok; x_k = c_f_cont;
        assert(c_f_current && x_t != NO_TOKEN);   /* no stale fetch, no null in the seed */
        c_f = 0; c_f_current = 0; c_f_forced = 0; c_f_cont = 0; c_f_answered = 0; c_f_tok = 0;
        if
        :: x_k == K_SET_CONFIG ->
            set_auth_state(AS_WAIT_CACHED, 0, NO_TOKEN);
            authenticate(x_t);
            resume_socket()
        :: x_k == K_REFETCH ->
            /* State::refetch_continues: a new token */
            assert(c_as != AS_NO_AUTH && x_t != c_auth);
            set_auth_state(AS_WAIT_FRESH, c_auth != NO_TOKEN, x_t);
            authenticate(x_t)
            /* try_restart_socket: the socket is never stopped in the seed */
        :: else -> assert(UNREACHABLE)
        fi;
        CLEAR_SCRATCH; CHECK; DUMP_STATE }

    /* Action::ClientSocketOpens -- State::socket_opens (client.rs) */
    :: d_step { c_ws == WS_CONNECTING && n_conn && n_id == c_ws_conn ->
        BEGIN;
        n_opened = 1;
        if
        :: c_ws_paused -> c_ws = WS_READY; c_ws_paused = RP_UNINIT
        :: else -> c_ws = WS_READY; c_ws_paused = RP_NO; on_open()
        fi;
        CLEAR_SCRATCH; CHECK; DUMP_STATE }

    /* Action::ClientReceives -- State::client_receives (client.rs); only
     * Transitions reach the client in the seed */
    :: d_step { n_conn && (c_ws == WS_CONNECTING || c_ws == WS_READY) && c_ws_conn == n_id && len(down) > 0 ->
        BEGIN;
        down?x_k, x_st, x_en, x_q, x_o, x_fst;
        assert(x_k == SF_TRANSITION);
        auth_on_transition(x_st, x_en);
        if
        :: (x_fst && c_rem_from == 0) || (!x_fst && c_rem_from == n_id + 1) ->
            c_rem_from = n_id + 1;
            if
            :: x_o != OUT_NONE -> c_rem = 1; c_rem_q = x_q; c_rem_o = x_o
            :: else -> skip
            fi;
            refresh_view()
        :: else -> skip   /* RemoteQuerySet throws "Invalid start version" */
        fi;
        CLEAR_SCRATCH; CHECK; DUMP_STATE }

    /* Action::ServerReceives { reject: false } -- State::server_receives (server.rs) */
    :: d_step { n_conn && n_opened && !s_closed && len(up) > 0 ->
        BEGIN;
        up?x_k, x_t, x_b, x_nw, x_md;
        if
        :: x_k == CF_CONNECT -> skip
        :: x_k == CF_AUTH ->
            /* tokens never expire and are never rejected in the seed */
            assert(x_b == s_version);
            s_identity = x_t; s_version++;
            /* rerun every subscription with the new identity; send what changed */
            if
            :: s_sub ->
                evaluate(s_identity, x_o);
                if
                :: x_o != s_sub_last -> s_sub_last = x_o; send_transition(x_b, x_b + 1, s_sub_q, x_o)
                :: else -> send_transition(x_b, x_b + 1, 0, OUT_NONE)
                fi
            :: else -> send_transition(x_b, x_b + 1, 0, OUT_NONE)
            fi
        :: x_k == CF_MQS ->
            assert(x_b == s_qsv);   /* else FatalError */
            s_qsv = x_nw;
            if
            :: (x_md & 3) == MOD_ADD ->
                assert(!s_sub);
                x_q = x_md >> 2;
                evaluate(s_identity, x_o);
                s_sub = 1; s_sub_q = x_q; s_sub_last = x_o;
                send_transition(s_version, s_version, x_q, x_o)
            :: (x_md & 3) == MOD_NONE -> send_transition(s_version, s_version, 0, OUT_NONE)
            :: else -> assert(UNREACHABLE)
            fi
        :: else -> assert(UNREACHABLE)
        fi;
        CLEAR_SCRATCH; CHECK; DUMP_STATE }
    od
}
