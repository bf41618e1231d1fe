/*
 * seed.pml -- a Promela port of authrace's model for the seed scenario
 * (models/seed-better-auth-ungated.toml), for a peer comparison with SPIN.
 *
 * Scenario: Better Auth provider, session `loading` at the first render, no
 * SSR token, one component OrganizationsList calling
 * `queries:listOrganizations` (auth = "required"); no fault budgets (the
 * refetch timer is unbounded: `refreshes` = Budgets::UNBOUNDED), no user
 * actions, expectAuth = false, initialAuthTokenReuse = false, no
 * users.store, JWT tokens (the refetch timer is armed), convex@1.48.0.
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
 * the seed configuration can reach. The global state below mirrors `State`
 * field by field (src/model/mod.rs). Fields that are constant in the seed
 * are left out: the fault budgets, `expired_upto`, the provider's `backend`
 * (always Some(A)), `initial`, `used` and `accounts`, the app's `signed_out`
 * stamps, the `users` table and mutation records, the client's `closing`
 * list, confirmation attempts, mutation requests, the server's
 * `update_pending`, and `anomaly`. Lists that never hold more than one
 * entry in the seed become one slot each: one function, so at most one
 * local query, one parked query modification, one server subscription, one
 * remote result and one view entry; at most one token fetch in flight; one
 * connection (conn 0: nothing ever closes or drops it). The two network
 * queues of that connection are Promela channels (FIFO, capacity 4, never
 * reached). Every branch of the Rust code the seed cannot take is guarded by
 * an assert (`assert(UNREACHABLE)` or an assert on the condition), so a run
 * that reaches one fails instead of silently diverging.
 *
 * Each Rust `Action` enabled in the seed is ONE `d_step` of the single
 * process `authrace` below, so one pan transition = one stateright step and
 * pan stores exactly the global states stateright does (no intermediate
 * states). Every step ends as `AuthModel::next_state` ends (mod.rs): the
 * per-step property marks (`State::violations`, `State::triggered`) are
 * cleared at its start, and after it come `canon::normalize_dead` (values
 * nothing reads again are reset) and `canon::normalize_time` (token and
 * backend-request numbers replaced by their ranks, each connection's
 * version clocks shifted down), which keep the unbounded token refreshes
 * finite. The port does not apply the rest of `canon::canonicalize`
 * (connection, query and fetcher renaming): compare.sh compares with the
 * Rust model run with symmetry reduction off.
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
#define S_LOADING    0
#define S_SIGNED_IN  1   /* SignedIn(A) */
#define S_SIGNED_OUT 2   /* only as normalize_dead writes it into the previous commit */

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

/* client::Via */
#define VIA_MEMORY   0
#define VIA_NETWORK  1   /* Network { req, cookie } */
#define VIA_DEFERRED 2

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
#define QRA 1    /* query-runs-authenticated (PropertyId 0) */
#define SA  16   /* stable-auth (PropertyId 4) */

/* canon.rs CLIENT_FLOOR */
#define CLIENT_FLOOR 2

/* ---------------------------------------------------------------- state */

/* Provider (provider.rs `Provider`; `backend` is Some(A) throughout,
 * `initial` None: no SSR token; `used` 0: no user actions; `accounts` {A}) */
byte p_session = S_LOADING;
byte p_inflight = 0;       /* the backend request in flight: 0 = None, r+1 */
byte p_next_req = 0;       /* next backend request name */
byte p_fetcher = 0;        /* generation of fetchAccessToken */
byte p_issued = 0;         /* next token issue number */
byte p_cached = NO_TOKEN;
byte p_last = NO_TOKEN;

/* App (app.rs `App`) */
/* committed: Option<Rendered> */
bit  a_rendered = 0;       /* committed.is_some() */
bit  r_hook_loading; bit r_hook_auth; byte r_hook_fetcher;
byte r_session; bit r_is_auth; bit r_is_loading; bit r_mounted; bit r_active;
/* effects: Option<Effects { prev: Option<Rendered> }> */
bit  a_effects = 0;        /* effects.is_some() */
bit  e_prev = 0;           /* prev.is_some() */
bit  e_hook_loading; bit e_hook_auth; byte e_hook_fetcher;
byte e_session; bit e_is_auth; bit e_is_loading; bit e_mounted; bit e_active;
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
bit  c_cb_live = 0;        /* callbacks_live */
/* fetches: one slot (Fetch; `request` is Meta bookkeeping, not state) */
bit  c_f = 0;
bit  c_f_current; bit c_f_forced; byte c_f_cont;
byte c_f_via; byte c_f_req; byte c_f_cookie;   /* Via; cookie: 0 = None, u+1 */
bit  c_f_answered; byte c_f_tok;               /* answer: Some(Token(tok)) */

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
bit  s_session = 0;        /* a Connect arrived */

/* State::expiring_upto: 0 = None, seq+1 (normalize_dead resets it: Better
 * Auth never caches until expiry) */
byte t_expiring = 0;

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
HIDDEN byte x_n, x_i, x_r, x_mi, x_mq, x_on, x_1, x_2, x_3, x_4, x_5;
HIDDEN int  x_mask;
HIDDEN byte h_conv, h_is_auth, h_is_loading, h_active, h_eff, h_deps, h_had_auth;
HIDDEN byte h_was_mounted, h_was_active, h_sent;
#define CLEAR_SCRATCH x_t = 0; x_b = 0; x_nw = 0; x_md = 0; x_k = 0; x_st = 0; x_en = 0; \
    x_q = 0; x_o = 0; x_fst = 0; x_n = 0; x_i = 0; x_r = 0; x_mi = 0; x_mq = 0; x_on = 0; \
    x_1 = 0; x_2 = 0; x_3 = 0; x_4 = 0; x_5 = 0; x_mask = 0; \
    h_conv = 0; h_is_auth = 0; h_is_loading = 0; h_active = 0; h_eff = 0; h_deps = 0; \
    h_had_auth = 0; h_was_mounted = 0; h_was_active = 0; h_sent = 0

/* ---------------------------------------------------------- render (pure) */

/* Provider::hook (better-auth: hook_sees_initial_token, no SSR token: c0 = false) */
#define HOOK_LOADING (p_session == S_LOADING)
#define HOOK_AUTH    (p_session == S_SIGNED_IN)
/* Provider::effective_user() == Some(A): signed in, backend session of A */
#define EFFECTIVE_A  (p_session == S_SIGNED_IN)
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
 * paused, else dropped. (No sign-out in the seed: every stamp is 0.) */
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
    /* LocalSyncState.restart() */
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

/* setAuthState (State::set_auth_state); `attempts` stays 0 in the seed
 * (only tryToReauthenticate counts), so resetting it is not written */
inline set_auth_state(s, fl, tk) {
    c_as = s; c_as_flag = fl; c_as_tok = tk
}

/* fetchTokenAndGuardAgainstRace up to its await (State::start_fetch), with
 * State::fetch_via and State::token_source for Better Auth: no SSR token, so
 * both a non-forced and a forced call (forced_refresh = new) go to the
 * network with the session cookie of A (the backend session exists while
 * the session loads too). Requests are shared across sessions
 * (Sharing::AcrossSessions): a non-forced call joins the request in flight,
 * if a fetch still holds it; a forced one starts a new request. */
inline start_fetch(forced, cont) {
    /* every fetch in flight becomes stale; an answered one is dropped (its
     * continuation does nothing once stale); the seed never has an
     * unanswered one here */
    if
    :: c_f -> assert(c_f_answered && c_f_cont != K_SET_CONFIG_REFETCH);
        c_f = 0; c_f_current = 0; c_f_forced = 0; c_f_cont = 0; c_f_via = 0;
        c_f_req = 0; c_f_cookie = 0; c_f_answered = 0; c_f_tok = 0
    :: else -> skip
    fi;
    assert(p_session != S_SIGNED_OUT);
    /* no fetch is left to join: a new backend request */
    x_r = p_next_req; p_next_req++; p_inflight = x_r + 1;
    c_f = 1; c_f_current = 1; c_f_forced = forced; c_f_cont = cont;
    c_f_via = VIA_NETWORK; c_f_req = x_r; c_f_cookie = 1;
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

/* refetchToken up to its await (State::refetch_token) */
inline refetch_token(cont) {
    if
    :: c_as != AS_NO_AUTH -> start_fetch(1, cont)
    :: else -> skip
    fi
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
    :: e0 < c_iv -> skip                /* stale */
    :: e0 >= c_iv && e0 <= s0 -> skip   /* not a response to Authenticate */
    :: e0 >= c_iv && e0 > s0 ->
        if
        :: c_as == AS_WAIT_CACHED ->
            /* initialAuthTokenReuse = false: refetchToken */
            refetch_token(K_REFETCH);
            on_auth_change_true()
        :: c_as == AS_WAIT_FRESH ->
            /* scheduleTokenRefetch (State::schedule_token_refetch): JWTs, so
             * the timer is armed; then onAuthChange(true) runs every time */
            set_auth_state(AS_WAIT_SCHEDULED, 1, NO_TOKEN);
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

/* State::commit_render: React renders with the current inputs and commits;
 * the commit's passive effects wait for their own task (a_effects), with
 * the commit before it as `prev`. */
inline commit_render() {
    h_conv = CONV;
    h_is_auth = (HOOK_AUTH && h_conv == O_TRUE);
    h_is_loading = (h_conv == O_NONE);
#ifdef FIXED
    h_active = h_is_auth;
#else
    h_active = 1;
#endif
    /* stable-auth: true -> false while signed in as the same user */
    if
    :: a_rendered && r_is_auth && !h_is_auth && a_auth_as && EFFECTIVE_A -> viol = viol | SA
    :: else -> skip
    fi;
    /* State::has_passive_effects(prev, new) */
    h_eff = (!a_rendered || r_hook_loading != HOOK_LOADING || r_hook_auth != HOOK_AUTH ||
             r_hook_fetcher != p_fetcher || r_mounted != MOUNTED || r_active != h_active);
    if
    :: h_eff ->
        assert(!a_effects);   /* flushed before every render */
        a_effects = 1; e_prev = a_rendered;
        e_hook_loading = r_hook_loading; e_hook_auth = r_hook_auth; e_hook_fetcher = r_hook_fetcher;
        e_session = r_session; e_is_auth = r_is_auth; e_is_loading = r_is_loading;
        e_mounted = r_mounted; e_active = r_active
    :: else -> skip
    fi;
    /* committed = new render */
    a_convex_auth = h_conv;
    a_pending = P_NONE;
    a_rendered = 1;
    r_hook_loading = HOOK_LOADING; r_hook_auth = HOOK_AUTH; r_hook_fetcher = p_fetcher;
    r_session = p_session;
    r_is_auth = h_is_auth; r_is_loading = h_is_loading;
    r_mounted = MOUNTED; r_active = h_active;
    if
    :: h_is_auth -> trig = trig | SA; a_auth_as = EFFECTIVE_A
    :: else -> skip
    fi
    /* no-stale-identity bookkeeping: nobody signs out in the seed, so
     * `signed_out` stays empty */
}

/* State::flush_effects: the passive effects of the last commit, comparing it
 * with `prev`: every cleanup, then every setup (React 19's order). */
inline flush_effects() {
    assert(a_effects && a_rendered);
    h_deps = (!e_prev || e_hook_loading != r_hook_loading || e_hook_auth != r_hook_auth ||
              e_hook_fetcher != r_hook_fetcher);
    h_had_auth = (e_prev && e_hook_auth);
    h_was_mounted = (e_prev && e_mounted);
    h_was_active = (e_prev && e_active);
    a_effects = 0; e_prev = 0;
    e_hook_loading = 0; e_hook_auth = 0; e_hook_fetcher = 0; e_session = 0;
    e_is_auth = 0; e_is_loading = 0; e_mounted = 0; e_active = 0;
    /* cleanup phase: ConvexAuthStateFirstEffect's and LastEffect's cleanups
     * run only when a hook that was authenticated changes: never in the
     * seed (the hook changes once, from loading). No component unmounts. */
    assert(!(h_deps && h_had_auth));
    assert(r_mounted || !h_was_mounted);
    /* setup phase: ConvexAuthStateFirstEffect's setAuth */
    if
    :: h_deps && r_hook_auth -> client_set_auth()
    :: else -> skip
    fi;
    /* the component (useQuery) */
    if
    :: !h_was_mounted ->
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

/* ------------------------------------------------------------ normalization */

/* canon::normalize_dead, the rules that apply in the seed */
inline normalize_dead() {
    /* normalize_fetch: once answered, `forced` and `via` are read by nothing */
    if
    :: c_f && c_f_via != VIA_MEMORY && c_f_answered ->
        assert(c_f_current);   /* a stale fetch is never answered in the seed */
        c_f_forced = 0; c_f_via = VIA_DEFERRED; c_f_req = 0; c_f_cookie = 0
    :: else -> assert(!c_f || c_f_current)
    fi;
    /* normalize_stamps: every stamp is 0 (nobody signs out); the server
     * never closes the connection; the query set never loses a query, so
     * the RemoteQuerySet keeps all its entries; no mutations */
    assert(!s_closed);
    assert(!c_rem || (c_q && c_q_id == c_rem_q));
    /* `expiring_upto` is read only by a provider that caches until expiry */
    t_expiring = 0;
    /* the token of WaitingForServerConfirmationOfFreshToken is read by
     * nothing; `had_auth` is not read with refetchable (JWT) tokens */
    if
    :: c_as == AS_WAIT_FRESH -> c_as_tok = 1; c_as_flag = 0   /* Token { user: 0, seq: 0 } */
    :: else -> skip
    fi;
    /* the previous commit: flush_effects reads its hook, mount and gate bits,
     * isAuthenticated and the user only */
    if
    :: a_effects && e_prev ->
        e_is_loading = 0;
        e_session = (e_session == S_SIGNED_IN -> S_SIGNED_IN : S_SIGNED_OUT)
    :: else -> skip
    fi
    /* the provider is never signed out for good in the seed */
}

/* x_r = the number of names in x_mask below v (canon.rs Names::rank) */
inline rank(v) {
    x_r = 0; x_i = 0;
    do
    :: x_i < v -> if :: (x_mask >> x_i) & 1 -> x_r++ :: else -> skip fi; x_i++
    :: else -> break
    od
}
/* Names::is_dense: the names are 0..n */
#define DENSE ((x_mask & (x_mask + 1)) == 0)
/* a token name (seq+1, 0 = none) into x_mask, and renamed to its rank */
#define ADD_TOK(t) if :: t != NO_TOKEN -> assert(t <= 30); x_mask = x_mask | (1 << (t - 1)) :: else -> skip fi
inline rename_tok(t) {
    if
    :: t != NO_TOKEN -> rank(t - 1); t = x_r + 1
    :: else -> skip
    fi
}

/* canon::normalize_versions: shifts the connection's two version clocks
 * (identity, query set) down to their minimum, the client's versions with
 * them (never below CLIENT_FLOOR), or caps the client's at CLIENT_FLOOR */
inline normalize_versions() {
    x_on = 0;
    if
    :: n_conn ->
        x_mi = s_version; x_mq = s_qsv;
        x_n = len(up);
        do
        :: x_n > 0 -> up?x_1, x_2, x_3, x_4, x_5;
            if
            :: x_1 == CF_AUTH -> x_mi = (x_3 < x_mi -> x_3 : x_mi)
            :: x_1 == CF_MQS -> x_mq = (x_3 < x_mq -> x_3 : x_mq); x_mq = (x_4 < x_mq -> x_4 : x_mq)
            :: else -> skip
            fi;
            up!x_1, x_2, x_3, x_4, x_5; x_n--
        :: else -> break
        od;
        x_n = len(down);
        do
        :: x_n > 0 -> down?x_1, x_2, x_3, x_4, x_5, x_fst;
            x_mi = (x_2 < x_mi -> x_2 : x_mi); x_mi = (x_3 < x_mi -> x_3 : x_mi);
            down!x_1, x_2, x_3, x_4, x_5, x_fst; x_n--
        :: else -> break
        od;
        if
        :: (c_ws == WS_CONNECTING || c_ws == WS_READY) && c_ws_conn == n_id &&
           !(len(up) == 0 && len(down) == 0 && !s_sent_tr && s_version == 0 && s_qsv == 0) ->
            x_on = 1;
            x_t = (c_iv > CLIENT_FLOOR -> c_iv - CLIENT_FLOOR : 0);
            x_mi = (x_t < x_mi -> x_t : x_mi);
            x_t = (c_qsv > CLIENT_FLOOR -> c_qsv - CLIENT_FLOOR : 0);
            x_mq = (x_t < x_mq -> x_t : x_mq);
            c_iv = c_iv - x_mi; c_qsv = c_qsv - x_mq
        :: else -> skip
        fi;
        if
        :: x_mi != 0 || x_mq != 0 ->
            s_version = s_version - x_mi; s_qsv = s_qsv - x_mq;
            x_n = len(up);
            do
            :: x_n > 0 -> up?x_1, x_2, x_3, x_4, x_5;
                if
                :: x_1 == CF_AUTH -> x_3 = x_3 - x_mi
                :: x_1 == CF_MQS -> x_3 = x_3 - x_mq; x_4 = x_4 - x_mq
                :: else -> skip
                fi;
                up!x_1, x_2, x_3, x_4, x_5; x_n--
            :: else -> break
            od;
            x_n = len(down);
            do
            :: x_n > 0 -> down?x_1, x_2, x_3, x_4, x_5, x_fst;
                down!x_1, x_2 - x_mi, x_3 - x_mi, x_4, x_5, x_fst; x_n--
            :: else -> break
            od
        :: else -> skip
        fi
    :: else -> skip
    fi;
    if
    :: !x_on ->
        c_iv = (c_iv > CLIENT_FLOOR -> CLIENT_FLOOR : c_iv);
        c_qsv = (c_qsv > CLIENT_FLOOR -> CLIENT_FLOOR : c_qsv)
    :: else -> skip
    fi
}

/* canon::normalize_time: version clocks shifted, then token issue numbers
 * and backend request names replaced by their ranks (canon::visit lists
 * where each kind of name occurs) */
inline normalize_time() {
    normalize_versions();
    /* tokens: the issue counter, the provider's cached and last tokens,
     * the client's token, a fetch's answer, the server's identity, the
     * tokens of Authenticate frames in flight */
    x_mask = 0;
    assert(p_issued < 31 && t_expiring == 0);
    x_mask = x_mask | (1 << p_issued);
    ADD_TOK(p_cached); ADD_TOK(p_last); ADD_TOK(c_auth);
    if :: c_f && c_f_answered -> ADD_TOK(c_f_tok) :: else -> skip fi;
    if :: n_conn -> ADD_TOK(s_identity) :: else -> skip fi;
    x_n = len(up);
    do
    :: x_n > 0 -> up?x_1, x_2, x_3, x_4, x_5;
        if :: x_1 == CF_AUTH -> ADD_TOK(x_2) :: else -> skip fi;
        up!x_1, x_2, x_3, x_4, x_5; x_n--
    :: else -> break
    od;
    if
    :: !DENSE ->
        rank(p_issued); p_issued = x_r;
        rename_tok(p_cached); rename_tok(p_last); rename_tok(c_auth);
        if :: c_f && c_f_answered -> rename_tok(c_f_tok) :: else -> skip fi;
        if :: n_conn -> rename_tok(s_identity) :: else -> skip fi;
        x_n = len(up);
        do
        :: x_n > 0 -> up?x_1, x_2, x_3, x_4, x_5;
            if :: x_1 == CF_AUTH -> rename_tok(x_2) :: else -> skip fi;
            up!x_1, x_2, x_3, x_4, x_5; x_n--
        :: else -> break
        od
    :: else -> skip
    fi;
    /* backend requests: the next name, the one in flight, a fetch's */
    x_mask = (1 << p_next_req);
    if :: p_inflight != 0 -> x_mask = x_mask | (1 << (p_inflight - 1)) :: else -> skip fi;
    if :: c_f && c_f_via == VIA_NETWORK -> x_mask = x_mask | (1 << c_f_req) :: else -> skip fi;
    if
    :: !DENSE ->
        rank(p_next_req); p_next_req = x_r;
        if :: p_inflight != 0 -> rank(p_inflight - 1); p_inflight = x_r + 1 :: else -> skip fi;
        if :: c_f && c_f_via == VIA_NETWORK -> rank(c_f_req); c_f_req = x_r :: else -> skip fi
    :: else -> skip
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
    printf("S p=%d,%d,%d,%d,%d,%d,%d a=%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d ",
        p_session, p_inflight, p_next_req, p_fetcher, p_issued, p_cached, p_last,
        a_rendered, r_hook_loading, r_hook_auth, r_hook_fetcher, r_session, r_is_auth,
        r_is_loading, r_mounted, r_active, a_convex_auth, a_pending, a_auth_as);
    printf("e=%d,%d,%d,%d,%d,%d,%d,%d,%d,%d ",
        a_effects, e_prev, e_hook_loading, e_hook_auth, e_hook_fetcher, e_session,
        e_is_auth, e_is_loading, e_mounted, e_active);
    printf("c=%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,",
        c_ws, c_ws_conn, c_ws_paused, c_next_conn, c_auth, c_iv, c_paused,
        c_q, c_q_id, c_q_subs, c_next_query, c_qsv, c_pend, c_pend_q, c_rem);
    printf("%d,%d,%d,%d,%d,%d,%d,%d ",
        c_rem_q, c_rem_o, c_rem_from, c_view, c_as, c_as_flag, c_as_tok, c_cb_live);
    printf("f=%d,%d,%d,%d,%d,%d,%d,%d,%d ",
        c_f, c_f_current, c_f_forced, c_f_cont, c_f_via, c_f_req, c_f_cookie, c_f_answered, c_f_tok);
    printf("n=%d,%d,%d s=%d,%d,%d,%d,%d,%d,%d,%d,%d t=%d m=%d,%d up=",
        n_conn, n_id, n_opened,
        s_identity, s_version, s_qsv, s_sent_tr, s_sub, s_sub_q, s_sub_last, s_closed, s_session,
        t_expiring, viol, trig);
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
/* AuthModel::step, then AuthModel::next_state: no token is ever answered
 * from memory in the seed, so `run_microtasks` has nothing to run, and
 * `observe` nothing to trigger (nobody signs out); then the normalizations */
#define END assert(!(c_f && c_f_via == VIA_MEMORY)); normalize_dead(); normalize_time(); \
    CLEAR_SCRATCH; CHECK; DUMP_STATE

active proctype authrace()
{
end:
    do
    /* Action::Commit -- State::commit (app.rs), enabled by State::needs_commit:
     * the passive effects still pending run first, then render and commit */
    :: d_step { NEEDS_COMMIT -> DUMP_INIT; BEGIN;
        if :: a_effects -> flush_effects() :: else -> skip fi;
        commit_render();
        END }

    /* Action::Effects -- State::flush_effects (app.rs): the passive-effects task */
    :: d_step { a_effects -> BEGIN; flush_effects(); END }

    /* Action::ProviderResolves -- State::provider_resolves (provider.rs):
     * the session loads as A */
    :: d_step { a_rendered && p_session == S_LOADING ->
        BEGIN;
        /* State::session_changes / Provider::change_session: a new user
         * drops the cached token and, for Better Auth, rebuilds
         * fetchAccessToken; the effective user changes (none -> A), which
         * ends the stretch stable-auth watches */
        p_session = S_SIGNED_IN; p_cached = NO_TOKEN; p_fetcher++;
        a_auth_as = 0;
        /* State::backend_signs_in: the backend session is A's already */
        /* State::render_now (sync_render: useSyncExternalStore): pending
         * passive effects run, then React renders, commits and runs this
         * commit's passive effects in the same task */
        if :: a_effects -> flush_effects() :: else -> skip fi;
        if
        :: NEEDS_COMMIT ->
            commit_render();
            if :: a_effects -> flush_effects() :: else -> skip fi
        :: else -> skip
        fi;
        END }

    /* Action::ProviderAnswers { fetch: 0, transient_null: false } --
     * State::provider_answers (provider.rs), enabled by
     * State::provider_answer_actions: the backend answers the request with
     * the cookie it was sent with (A's, whose session exists): a new token,
     * Provider::issue. Sharing::AcrossSessions: the request's `finally`
     * clears the shared ref. */
    :: d_step { a_rendered && c_f && !c_f_answered && c_f_via == VIA_NETWORK ->
        BEGIN;
        assert(c_f_cookie == 1);
        x_t = p_issued + 1; p_issued++; p_cached = x_t; p_last = x_t;
        c_f_answered = 1; c_f_tok = x_t;
        p_inflight = 0;
        END }

    /* Action::ClientTokenResolves { fetch: 0 } -- State::token_resolves (client.rs) */
    :: d_step { c_f && c_f_answered && c_f_via != VIA_MEMORY ->
        BEGIN;
        x_t = c_f_tok; x_k = c_f_cont;
        assert(c_f_current && x_t != NO_TOKEN);   /* no stale fetch, no null in the seed */
        c_f = 0; c_f_current = 0; c_f_forced = 0; c_f_cont = 0; c_f_via = 0; c_f_req = 0;
        c_f_cookie = 0; c_f_answered = 0; c_f_tok = 0;
        if
        :: x_k == K_SET_CONFIG ->
            set_auth_state(AS_WAIT_CACHED, 0, NO_TOKEN);
            authenticate(x_t);
            resume_socket()
        :: x_k == K_REFETCH ->
            /* State::refetch_continues: a new token */
            assert(c_as != AS_NO_AUTH && x_t != c_auth);
            set_auth_state(AS_WAIT_FRESH, c_auth != NO_TOKEN, x_t);
            authenticate(x_t);
            /* try_restart_socket: the socket is never stopped in the seed */
            assert(c_ws != WS_STOPPED)
        :: else -> assert(UNREACHABLE)
        fi;
        END }

    /* Action::ClientSocketOpens -- State::socket_opens (client.rs) */
    :: d_step { c_ws == WS_CONNECTING && n_conn && n_id == c_ws_conn ->
        BEGIN;
        n_opened = 1;
        if
        :: c_ws_paused -> c_ws = WS_READY; c_ws_paused = RP_UNINIT
        :: else -> c_ws = WS_READY; c_ws_paused = RP_NO; on_open()
        fi;
        END }

    /* Action::ClientReceives { conn: 0 } -- State::client_receives (client.rs);
     * only Transitions reach the client in the seed */
    :: d_step { n_conn && (c_ws == WS_CONNECTING || c_ws == WS_READY) && c_ws_conn == n_id && len(down) > 0 ->
        BEGIN;
        down?x_k, x_st, x_en, x_q, x_o, x_fst;
        assert(x_k == SF_TRANSITION);
        auth_on_transition(x_st, x_en);
        if
        :: (x_fst && c_rem_from == 0) || (!x_fst && c_rem_from == n_id + 1) ->
            c_rem_from = n_id + 1;
            if
            :: x_o != OUT_NONE ->
                assert(!c_rem || c_rem_q == x_q);
                c_rem = 1; c_rem_q = x_q; c_rem_o = x_o
            :: else -> skip
            fi;
            refresh_view()
        :: else -> skip   /* RemoteQuerySet throws "Invalid start version" */
        fi;
        END }

    /* Action::ClientRefetchTimer -- State::refetch_timer (client.rs): the
     * scheduled refetch fires (`refreshes` is unbounded) */
    :: d_step { c_as == AS_WAIT_SCHEDULED && c_as_flag ->
        BEGIN;
        c_as_flag = 0;   /* WaitingForScheduledRefetch { timer: false } */
        /* the client's token is about to expire */
        if
        :: c_auth != NO_TOKEN -> t_expiring = (c_auth > t_expiring -> c_auth : t_expiring)
        :: else -> skip
        fi;
        refetch_token(K_REFETCH);
        END }

    /* Action::ServerReceives { conn: 0, reject: false, before_update: false }
     * -- State::server_receives (server.rs) */
    :: d_step { n_conn && n_opened && !s_closed && len(up) > 0 ->
        BEGIN;
        up?x_k, x_t, x_b, x_nw, x_md;
        if
        :: x_k == CF_CONNECT -> s_session = 1
        :: x_k == CF_AUTH ->
            /* tokens never expire and are never rejected in the seed */
            assert(x_b == s_version);   /* else the server closes */
            s_identity = x_t; s_version++;
            /* State::rerun: every subscription with the new identity; the
             * Transition carries what changed */
            if
            :: s_sub ->
                evaluate(s_identity, x_o);
                if
                :: x_o != s_sub_last -> s_sub_last = x_o; send_transition(x_b, x_b + 1, s_sub_q, x_o)
                :: else -> send_transition(x_b, x_b + 1, 0, OUT_NONE)
                fi
            :: else -> send_transition(x_b, x_b + 1, 0, OUT_NONE)
            fi
            /* update_pending stays false: no token can be refused later */
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
        END }
    od
}
