/*
 * scale.pml -- a Promela port of authrace's model (src/model/) for the
 * scale scenario family, for a peer comparison with SPIN:
 *
 *   Clerk provider, signed in at load, one sign-out and one sign-in (user
 *   actions), INSTANCES identical components `List0` calling `q:list0`
 *   (auth = "required") behind gate "convex-auth", fault budgets
 *   socket_drops = DROPS, refreshes = REFRESHES, reject_tokens = REJECTS;
 *   JWT tokens, convex@1.48.0, no expectAuth, no initialAuthTokenReuse, no
 *   users.store, no patches.
 *
 *   -DINSTANCES=n -DDROPS=n -DREFRESHES=n -DREJECTS=n   (default 3, 2, 1, 1:
 *                the scale target)
 *   -DCHECK_PROPS  assert the safety properties (query-runs-authenticated,
 *                no-stale-identity, stable-auth) after every step; off by
 *                default (the counts are the same either way)
 *   -DDUMP       with pan -DPRINTF: every step prints the state it reaches
 *                (compare_scale.py renders it as the Rust `State`)
 *
 * Same method as seed.pml (see README.md): the global variables copy the
 * Rust `State` field by field, each Rust `Action` is one atomic step of the
 * single process (`atomic` around a chain of deterministic `d_step`s: one
 * `d_step` may not hold more than 2048 jump targets, and pan stores no
 * state inside an atomic sequence), and every step ends as
 * `AuthModel::next_state` does:
 * `run_microtasks`, `observe`, `canon::normalize_dead`, then (symmetry off)
 * `canon::normalize_time`. Lists become fixed arrays with a length; removing
 * an entry shifts the later ones down and zeroes the freed slot, so a list
 * has one representation. Actions with an index (a fetch, a connection) are
 * one `d_step` per slot. Fields constant in this family are left out (see
 * README.md); paths the family cannot take are guarded by asserts.
 */

#ifndef INSTANCES
#define INSTANCES 3
#endif
#ifndef DROPS
#define DROPS 2
#endif
#ifndef REFRESHES
#define REFRESHES 1
#endif
#ifndef REJECTS
#define REJECTS 1
#endif

#define UNREACHABLE 0

/* Option<bool> */
#define O_NONE 0
#define O_FALSE 1
#define O_TRUE 2
/* app::Pending */
#define P_NONE 0
#define P_SET_NONE 1
#define P_SET_FALSE 2
#define P_SET_TRUE 3
#define P_FIRST_CLEANUP 4
/* provider::Session */
#define S_LOADING 0
#define S_SIGNED_IN 1
#define S_SIGNED_OUT 2
/* Provider::used bits */
#define USED_SIGN_IN 1
#define USED_SIGN_OUT 2
#define SIGNING_OUT 32
/* tokens: 0 = None / null, seq+1 = Token { user: 0, seq } */
#define NO_TOKEN 0
/* client::Ws */
#define WS_UNCREATED 0
#define WS_DISCONNECTED 1
#define WS_CONNECTING 2
#define WS_READY 3
#define WS_STOPPED 4
#define WS_TERMINATED 5
#define RP_NO 0
#define RP_YES 1
#define RP_UNINIT 2
/* client::AuthState */
#define AS_NO_AUTH 0
#define AS_WAIT_CACHED 1
#define AS_INITIAL_REFETCH 2
#define AS_WAIT_FRESH 3
#define AS_WAIT_SCHEDULED 4
#define AS_NOT_REFETCHING 5
/* client::Cont */
#define K_SET_CONFIG 0
#define K_SET_CONFIG_REFETCH 1
#define K_REFETCH 2
#define K_REAUTH 3
/* client::Via */
#define VIA_MEMORY 0
#define VIA_NETWORK 1
#define VIA_DEFERRED 2
/* Outcome of q:list0; in results 0 = None (removed) */
#define OUT_VAL_A 1
#define OUT_UNAUTH 2
/* ClientFrame */
#define CF_CONNECT 1
#define CF_AUTH 2
#define CF_MQS 3
/* QueryMod: q << 2 | kind */
#define MOD_ADD 1
#define MOD_REM 2
/* ServerFrame */
#define SF_TRANSITION 1
#define SF_AUTH_ERROR 2
#define SF_FATAL 3
#define SF_CLOSE 5
/* Anomaly */
#define AN_READ_IN_NOAUTH 1
#define AN_CONFIG_LOST 2
/* PropertyId bits */
#define QRA 1
#define NSI 8
#define SA 16

#define CLIENT_FLOOR 2
#define NC 3    /* connections */
#define QU 12   /* frames per queue */
#define NF 5    /* fetches */
#define NCL 2   /* closing */
#define NP 4    /* parked query modifications */

/* ---------------------------------------------------------------- state */

/* Provider */
byte p_session = S_SIGNED_IN;
bit  p_backend = 1;        /* Some(A) */
byte p_inflight = 0;       /* 0 = None, r+1 */
byte p_next_req = 0;
byte p_fetcher = 0;
byte p_issued = 0;
byte p_cached = NO_TOKEN;
byte p_last = NO_TOKEN;
byte p_used = 0;

/* App. A Rendered: hook {loading = false, authenticated, fetcher}, session,
 * is_authenticated, is_loading, mounted (always every instance), active
 * (every instance or none: the gate is the same for all) */
bit  a_rendered = 0;
bit  r_ha; byte r_hf; byte r_sess; bit r_ia; bit r_il; bit r_act;
bit  a_effects = 0;
bit  e_prev = 0;
bit  e_ha; byte e_hf; byte e_sess; bit e_ia; bit e_il; bit e_act;
byte a_conv = O_NONE;
byte a_pending = P_NONE;
bit  a_signed_out = 0;     /* bit A of App::signed_out */
bit  a_auth_as = 0;        /* authenticated_as == Some(A) */

/* Client */
byte c_ws = WS_UNCREATED;
byte c_ws_conn = 0;
byte c_ws_paused = 0;
byte c_next_conn = 0;
byte c_ncl = 0;
byte cl_conn[NCL]; byte cl_w[NCL];
byte c_auth = NO_TOKEN;
byte c_iv = 0;
bit  c_paused = 0;
bit  c_q = 0; byte c_q_id; byte c_q_subs;
byte c_next_query = 0;
byte c_qsv = 0;
byte c_np = 0; byte c_pm[NP];
bit  c_rem = 0; byte c_rem_q; byte c_rem_o;
byte c_rem_from = 0;       /* 0 = None, conn+1 */
byte c_view = 0;           /* outcome of q:list0 in the view, 0 = none */
byte c_as = AS_NO_AUTH;
bit  c_as_flag = 0;        /* WaitingForScheduledRefetch { timer } */
byte c_attempts = 0;
bit  c_cb_live = 0;
byte c_nf = 0;
bit  f_cur[NF]; bit f_forced[NF]; byte f_cont[NF]; byte f_via[NF]; byte f_req[NF];
bit  f_cookie[NF]; bit f_ans[NF]; byte f_tok[NF];

/* Network + server: net[0..n_n), oldest first */
byte n_n = 0;
byte n_id[NC]; bit n_opened[NC];
byte nu[NC];               /* up queue lengths */
byte u_k[NC*QU]; byte u_t[NC*QU]; byte u_b[NC*QU]; byte u_n[NC*QU];
byte u_nm[NC*QU]; byte u_m1[NC*QU]; byte u_m2[NC*QU]; bit u_st[NC*QU];
byte nd[NC];               /* down queue lengths */
byte d_k[NC*QU]; byte d_s[NC*QU]; byte d_e[NC*QU]; byte d_nr[NC*QU];
byte d_q1[NC*QU]; byte d_o1[NC*QU]; byte d_q2[NC*QU]; byte d_o2[NC*QU]; bit d_f[NC*QU];
byte s_ident[NC]; byte s_ver[NC]; byte s_qsv[NC]; bit s_sent[NC];
bit  s_sub[NC]; byte s_sub_q[NC]; byte s_sub_o[NC];
bit  s_closed[NC]; bit s_session[NC]; bit s_upd[NC];

/* budgets, time, marks */
byte b_drops = DROPS;
byte b_refr = REFRESHES;
byte b_rej = REJECTS;
byte t_expiring = 0;       /* 0 = None, seq+1 */
byte viol = 0;
byte trig = 0;
byte anomaly = 0;

/* scratch (hidden: not in the state vector) */
hidden byte i, j, k, x_t, x_b, x_r, x_v, x_o, x_q, x_ci, x_cj, x_m, x_n;
hidden byte x_cnt, x_w, x_fi, x_ans, x_cont, x_cur, x_forced, x_via, x_req, x_cookie;
hidden byte y_k, y_t, y_b, y_n, y_nm, y_m1, y_m2, y_st;
hidden byte z_k, z_s, z_e, z_nr, z_q1, z_o1, z_q2, z_o2, z_f;
hidden byte h_conv, h_ia, h_il, h_act, h_deps, h_had, h_prev, h_prev_act, h_upd;
hidden byte x_mi, x_mq, x_on, x_untouched, x_keep, x_id, x_tt, x_found, x_sent;
hidden int  x_mask;
hidden byte q_cnt, q_m1, q_m2, r_nr, r_q1, r_o1, r_q2, r_o2;

/* ---------------------------------------------------------------- helpers */

#define HOOK_AUTH (p_session == S_SIGNED_IN)
#define EFFECTIVE_A (p_session == S_SIGNED_IN && p_backend)
#define UI(ci, k) ((ci) * QU + (k))

/* Pending::then(next) applied to a_pending */
inline pending_then(nx) {
    if
    :: nx == P_NONE -> skip
    :: nx == P_SET_NONE || nx == P_SET_FALSE || nx == P_SET_TRUE -> a_pending = nx
    :: nx == P_FIRST_CLEANUP ->
        if
        :: a_pending == P_NONE -> a_pending = P_FIRST_CLEANUP
        :: a_pending == P_SET_TRUE -> a_pending = P_SET_FALSE
        :: a_pending == P_SET_NONE || a_pending == P_SET_FALSE -> a_pending = P_SET_NONE
        :: a_pending == P_FIRST_CLEANUP -> a_pending = P_SET_NONE
        fi
    fi
}

/* Pending::apply(convex_auth) and the render-phase adjustments (the hook
 * is never loading for Clerk signed in at load) */
#define CONV0 (a_pending == P_NONE -> a_conv : \
              (a_pending == P_SET_NONE -> O_NONE : \
              (a_pending == P_SET_FALSE -> O_FALSE : \
              (a_pending == P_SET_TRUE -> O_TRUE : \
              (a_conv == O_TRUE -> O_FALSE : O_NONE)))))
#define CONV ((!HOOK_AUTH && CONV0 != O_FALSE) -> O_FALSE : CONV0)
#define IS_AUTH (HOOK_AUTH && CONV == O_TRUE)
#define IS_LOADING (CONV == O_NONE)

#define NEEDS_COMMIT (!a_rendered || a_pending != P_NONE || \
    r_ha != HOOK_AUTH || r_hf != p_fetcher || r_sess != p_session || \
    r_ia != IS_AUTH || r_il != IS_LOADING || r_act != IS_AUTH)

/* x_ci = the slot of connection id x_id in net, NC if none */
inline find_conn(id) {
    x_ci = NC;
    for (i : 0 .. NC - 1) {
        if :: i < n_n && n_id[i] == id && x_ci == NC -> x_ci = i :: else -> skip fi
    }
}

/* copies connection slot src into dst (dst < src) */
inline copy_conn(dst, src) {
    n_id[dst] = n_id[src]; n_opened[dst] = n_opened[src];
    nu[dst] = nu[src]; nd[dst] = nd[src];
    for (k : 0 .. QU - 1) {
        u_k[UI(dst, k)] = u_k[UI(src, k)]; u_t[UI(dst, k)] = u_t[UI(src, k)];
        u_b[UI(dst, k)] = u_b[UI(src, k)]; u_n[UI(dst, k)] = u_n[UI(src, k)];
        u_nm[UI(dst, k)] = u_nm[UI(src, k)]; u_m1[UI(dst, k)] = u_m1[UI(src, k)];
        u_m2[UI(dst, k)] = u_m2[UI(src, k)]; u_st[UI(dst, k)] = u_st[UI(src, k)];
        d_k[UI(dst, k)] = d_k[UI(src, k)]; d_s[UI(dst, k)] = d_s[UI(src, k)];
        d_e[UI(dst, k)] = d_e[UI(src, k)]; d_nr[UI(dst, k)] = d_nr[UI(src, k)];
        d_q1[UI(dst, k)] = d_q1[UI(src, k)]; d_o1[UI(dst, k)] = d_o1[UI(src, k)];
        d_q2[UI(dst, k)] = d_q2[UI(src, k)]; d_o2[UI(dst, k)] = d_o2[UI(src, k)];
        d_f[UI(dst, k)] = d_f[UI(src, k)]
    }
    s_ident[dst] = s_ident[src]; s_ver[dst] = s_ver[src]; s_qsv[dst] = s_qsv[src];
    s_sent[dst] = s_sent[src]; s_sub[dst] = s_sub[src]; s_sub_q[dst] = s_sub_q[src];
    s_sub_o[dst] = s_sub_o[src]; s_closed[dst] = s_closed[src];
    s_session[dst] = s_session[src]; s_upd[dst] = s_upd[src]
}

inline clear_up(ci) {
    for (k : 0 .. QU - 1) {
        u_k[UI(ci, k)] = 0; u_t[UI(ci, k)] = 0; u_b[UI(ci, k)] = 0; u_n[UI(ci, k)] = 0;
        u_nm[UI(ci, k)] = 0; u_m1[UI(ci, k)] = 0; u_m2[UI(ci, k)] = 0; u_st[UI(ci, k)] = 0
    }
    nu[ci] = 0
}

inline zero_conn(ci) {
    n_id[ci] = 0; n_opened[ci] = 0; clear_up(ci); nd[ci] = 0;
    for (k : 0 .. QU - 1) {
        d_k[UI(ci, k)] = 0; d_s[UI(ci, k)] = 0; d_e[UI(ci, k)] = 0; d_nr[UI(ci, k)] = 0;
        d_q1[UI(ci, k)] = 0; d_o1[UI(ci, k)] = 0; d_q2[UI(ci, k)] = 0; d_o2[UI(ci, k)] = 0;
        d_f[UI(ci, k)] = 0
    }
    s_ident[ci] = 0; s_ver[ci] = 0; s_qsv[ci] = 0; s_sent[ci] = 0; s_sub[ci] = 0;
    s_sub_q[ci] = 0; s_sub_o[ci] = 0; s_closed[ci] = 0; s_session[ci] = 0; s_upd[ci] = 0
}

/* net.retain(|c| c.id != id) */
inline remove_conn(id) {
    find_conn(id);
    if
    :: x_ci < NC ->
        x_cj = x_ci;
        do
        :: x_cj + 1 < n_n -> copy_conn(x_cj, x_cj + 1); x_cj++
        :: else -> break
        od;
        n_n--; zero_conn(n_n)
    :: else -> skip
    fi
}

/* pops the first up frame of slot ci into y_* */
inline pop_up(ci) {
    assert(nu[ci] > 0);
    y_k = u_k[UI(ci, 0)]; y_t = u_t[UI(ci, 0)]; y_b = u_b[UI(ci, 0)]; y_n = u_n[UI(ci, 0)];
    y_nm = u_nm[UI(ci, 0)]; y_m1 = u_m1[UI(ci, 0)]; y_m2 = u_m2[UI(ci, 0)]; y_st = u_st[UI(ci, 0)];
    for (k : 1 .. QU - 1) {
        u_k[UI(ci, k - 1)] = u_k[UI(ci, k)]; u_t[UI(ci, k - 1)] = u_t[UI(ci, k)];
        u_b[UI(ci, k - 1)] = u_b[UI(ci, k)]; u_n[UI(ci, k - 1)] = u_n[UI(ci, k)];
        u_nm[UI(ci, k - 1)] = u_nm[UI(ci, k)]; u_m1[UI(ci, k - 1)] = u_m1[UI(ci, k)];
        u_m2[UI(ci, k - 1)] = u_m2[UI(ci, k)]; u_st[UI(ci, k - 1)] = u_st[UI(ci, k)]
    }
    k = QU - 1;
    u_k[UI(ci, k)] = 0; u_t[UI(ci, k)] = 0; u_b[UI(ci, k)] = 0; u_n[UI(ci, k)] = 0;
    u_nm[UI(ci, k)] = 0; u_m1[UI(ci, k)] = 0; u_m2[UI(ci, k)] = 0; u_st[UI(ci, k)] = 0;
    nu[ci]--
}

/* pops the first down frame of slot ci into z_* */
inline pop_down(ci) {
    assert(nd[ci] > 0);
    z_k = d_k[UI(ci, 0)]; z_s = d_s[UI(ci, 0)]; z_e = d_e[UI(ci, 0)]; z_nr = d_nr[UI(ci, 0)];
    z_q1 = d_q1[UI(ci, 0)]; z_o1 = d_o1[UI(ci, 0)]; z_q2 = d_q2[UI(ci, 0)]; z_o2 = d_o2[UI(ci, 0)];
    z_f = d_f[UI(ci, 0)];
    for (k : 1 .. QU - 1) {
        d_k[UI(ci, k - 1)] = d_k[UI(ci, k)]; d_s[UI(ci, k - 1)] = d_s[UI(ci, k)];
        d_e[UI(ci, k - 1)] = d_e[UI(ci, k)]; d_nr[UI(ci, k - 1)] = d_nr[UI(ci, k)];
        d_q1[UI(ci, k - 1)] = d_q1[UI(ci, k)]; d_o1[UI(ci, k - 1)] = d_o1[UI(ci, k)];
        d_q2[UI(ci, k - 1)] = d_q2[UI(ci, k)]; d_o2[UI(ci, k - 1)] = d_o2[UI(ci, k)];
        d_f[UI(ci, k - 1)] = d_f[UI(ci, k)]
    }
    k = QU - 1;
    d_k[UI(ci, k)] = 0; d_s[UI(ci, k)] = 0; d_e[UI(ci, k)] = 0; d_nr[UI(ci, k)] = 0;
    d_q1[UI(ci, k)] = 0; d_o1[UI(ci, k)] = 0; d_q2[UI(ci, k)] = 0; d_o2[UI(ci, k)] = 0;
    d_f[UI(ci, k)] = 0;
    nd[ci]--
}

/* server_send: pushes a down frame on slot ci; a Transition's `first` is stamped here */
inline push_down(ci, kk, ss, ee, nr, q1, o1, q2, o2, ff) {
    assert(nd[ci] < QU);
    k = nd[ci];
    d_k[UI(ci, k)] = kk; d_s[UI(ci, k)] = ss; d_e[UI(ci, k)] = ee; d_nr[UI(ci, k)] = nr;
    d_q1[UI(ci, k)] = q1; d_o1[UI(ci, k)] = o1; d_q2[UI(ci, k)] = q2; d_o2[UI(ci, k)] = o2;
    if
    :: kk == SF_TRANSITION -> d_f[UI(ci, k)] = !s_sent[ci]; s_sent[ci] = 1
    :: else -> d_f[UI(ci, k)] = ff
    fi;
    nd[ci]++
}

/* ------------------------------------------------------------ client parts */

/* State::send: x_sent = whether it was sent */
inline send(kk, tt, bb, nn, nm, m1, m2) {
    if
    :: c_ws == WS_READY && c_ws_paused == RP_NO ->
        if
        :: kk == CF_AUTH && tt != NO_TOKEN && a_signed_out -> viol = viol | NSI
        :: else -> skip
        fi;
        find_conn(c_ws_conn);
        assert(x_ci < NC && nu[x_ci] < QU);
        k = nu[x_ci];
        u_k[UI(x_ci, k)] = kk; u_t[UI(x_ci, k)] = tt; u_b[UI(x_ci, k)] = bb; u_n[UI(x_ci, k)] = nn;
        u_nm[UI(x_ci, k)] = nm; u_m1[UI(x_ci, k)] = m1; u_m2[UI(x_ci, k)] = m2;
        u_st[UI(x_ci, k)] = a_signed_out;
        nu[x_ci]++;
        x_sent = 1
    :: else -> x_sent = 0
    fi
}

inline ws_connect() {
    assert(n_n < NC);
    zero_conn(n_n);
    n_id[n_n] = c_next_conn; n_n++;
    c_ws = WS_CONNECTING; c_ws_conn = c_next_conn; c_ws_paused = 0;
    c_next_conn++
}

inline client_sync() {
    if :: c_ws == WS_UNCREATED -> ws_connect() :: else -> skip fi
}

inline pause_socket() {
    if
    :: c_ws == WS_CONNECTING -> c_ws_paused = 1
    :: c_ws == WS_READY -> c_ws_paused = RP_YES
    :: else -> skip
    fi;
    c_paused = 1
}

inline on_open() {
    send(CF_CONNECT, 0, 0, 0, 0, 0, 0);
    c_rem = 0; c_rem_q = 0; c_rem_o = 0; c_rem_from = 0;
    c_paused = 0;
    for (j : 0 .. NP - 1) { c_pm[j] = 0 }; c_np = 0;
    c_iv = (c_auth != NO_TOKEN -> 1 : 0);
    if :: c_auth != NO_TOKEN -> send(CF_AUTH, c_auth, 0, 0, 0, 0, 0) :: else -> skip fi;
    c_qsv = 1;
    if
    :: c_q -> send(CF_MQS, 0, 0, 1, 1, (c_q_id << 2) | MOD_ADD, 0)
    :: else -> send(CF_MQS, 0, 0, 1, 0, 0, 0)
    fi
}

inline on_resume() {
    q_cnt = c_np; q_m1 = c_pm[0]; q_m2 = c_pm[1];
    assert(c_np <= 2);
    for (j : 0 .. NP - 1) { c_pm[j] = 0 }; c_np = 0;
    if :: q_cnt > 0 -> x_b = c_qsv; c_qsv++ :: else -> skip fi;
    if :: c_auth != NO_TOKEN -> x_v = c_iv; c_iv++ :: else -> skip fi;
    c_paused = 0;
    if :: c_auth != NO_TOKEN -> send(CF_AUTH, c_auth, x_v, 0, 0, 0, 0) :: else -> skip fi;
    if :: q_cnt > 0 -> send(CF_MQS, 0, x_b, x_b + 1, q_cnt, q_m1, q_m2) :: else -> skip fi
}

inline resume_socket() {
    if
    :: c_ws == WS_CONNECTING -> c_ws_paused = 0
    :: c_ws == WS_READY && c_ws_paused == RP_UNINIT -> c_ws_paused = RP_NO; on_open()
    :: c_ws == WS_READY && c_ws_paused == RP_YES -> c_ws_paused = RP_NO; on_resume()
    :: else -> skip
    fi
}

/* stop_socket: x_id = the conn it closes, 255 if none */
inline stop_socket() {
    if
    :: c_ws == WS_TERMINATED -> x_id = 255
    :: else ->
        if
        :: c_ws == WS_CONNECTING || c_ws == WS_READY -> x_id = c_ws_conn
        :: else -> x_id = 255
        fi;
        c_ws = WS_STOPPED; c_ws_conn = 0; c_ws_paused = 0;
        if
        :: x_id != 255 -> assert(c_ncl < NCL); cl_conn[c_ncl] = x_id; cl_w[c_ncl] = 0; c_ncl++
        :: else -> skip
        fi
    fi
}

inline try_restart_socket() {
    if :: c_ws == WS_STOPPED -> ws_connect() :: else -> skip fi
}

inline on_close() {
    c_ws = WS_DISCONNECTED; c_ws_conn = 0; c_ws_paused = 0
}

#define IS_CLOSING(id) ((c_ncl > 0 && cl_conn[0] == (id)) || (c_ncl > 1 && cl_conn[1] == (id)))
#define CUR_IS(id) ((c_ws == WS_CONNECTING || c_ws == WS_READY) && c_ws_conn == (id))

inline client_subscribe() {
    client_sync();
    if
    :: c_q -> c_q_subs++
    :: else ->
        c_q = 1; c_q_id = c_next_query; c_q_subs = 1; c_next_query++;
        if
        :: c_paused -> assert(c_np < NP); c_pm[c_np] = (c_q_id << 2) | MOD_ADD; c_np++
        :: else -> x_b = c_qsv; c_qsv++;
            send(CF_MQS, 0, x_b, x_b + 1, 1, (c_q_id << 2) | MOD_ADD, 0)
        fi
    fi
}

inline client_unsubscribe() {
    if
    :: !c_q -> skip
    :: c_q && c_q_subs > 1 -> c_q_subs--
    :: else ->
        x_q = c_q_id; c_q = 0; c_q_id = 0; c_q_subs = 0;
        if
        :: c_paused ->
            x_found = NP;
            for (j : 0 .. NP - 1) {
                if :: j < c_np && c_pm[j] == ((x_q << 2) | MOD_ADD) && x_found == NP -> x_found = j :: else -> skip fi
            }
            if
            :: x_found < NP ->
                for (j : 0 .. NP - 2) { if :: j >= x_found -> c_pm[j] = c_pm[j + 1] :: else -> skip fi };
                c_pm[NP - 1] = 0; c_np--
            :: else -> assert(c_np < NP); c_pm[c_np] = (x_q << 2) | MOD_REM; c_np++
            fi
        :: else -> x_b = c_qsv; c_qsv++;
            send(CF_MQS, 0, x_b, x_b + 1, 1, (x_q << 2) | MOD_REM, 0)
        fi
    fi
}

inline local_clear_auth() {
    c_auth = NO_TOKEN; x_v = c_iv;
    if :: !c_paused -> c_iv++ :: else -> skip fi
}

inline client_clear_auth() {
    client_sync();
    local_clear_auth();
    send(CF_AUTH, NO_TOKEN, x_v, 0, 0, 0, 0)
}

inline authenticate(tk) {
    c_auth = tk; x_v = c_iv;
    if :: !c_paused -> c_iv++ :: else -> skip fi;
    send(CF_AUTH, tk, x_v, 0, 0, 0, 0)
}

inline set_auth_state(s, fl) {
    if
    :: s == AS_WAIT_SCHEDULED || s == AS_NOT_REFETCHING || s == AS_NO_AUTH -> c_attempts = 0
    :: else -> skip
    fi;
    c_as = s; c_as_flag = fl
}

inline zero_fetch(fq) {
    f_cur[fq] = 0; f_forced[fq] = 0; f_cont[fq] = 0; f_via[fq] = 0; f_req[fq] = 0;
    f_cookie[fq] = 0; f_ans[fq] = 0; f_tok[fq] = 0
}

/* fetches.remove(fq) */
inline remove_fetch(fq) {
    for (j : 0 .. NF - 2) {
        if
        :: j >= fq ->
            f_cur[j] = f_cur[j + 1]; f_forced[j] = f_forced[j + 1]; f_cont[j] = f_cont[j + 1];
            f_via[j] = f_via[j + 1]; f_req[j] = f_req[j + 1]; f_cookie[j] = f_cookie[j + 1];
            f_ans[j] = f_ans[j + 1]; f_tok[j] = f_tok[j + 1]
        :: else -> skip
        fi
    }
    zero_fetch(NF - 1);
    c_nf--
}

/* State::start_fetch with fetch_via / token_source for Clerk: non-forced:
 * the cached token of the session while valid and not about to expire
 * (from memory), else the backend; forced: always the backend (a new
 * request, never joined); signed out: null from memory. */
inline start_fetch(forced, cont) {
    for (j : 0 .. NF - 1) { f_cur[j] = 0 };
    /* retain unanswered fetches and answered SetConfigRefetch ones */
    x_fi = 0;
    do
    :: x_fi < c_nf ->
        if
        :: f_ans[x_fi] && f_cont[x_fi] != K_SET_CONFIG_REFETCH -> remove_fetch(x_fi)
        :: else -> x_fi++
        fi
    :: else -> break
    od;
    if
    :: p_session == S_SIGNED_OUT ->
        x_via = VIA_MEMORY; x_ans = 1; x_t = NO_TOKEN; x_req = 0; x_cookie = 0
    :: p_session == S_SIGNED_IN && !forced && p_cached != NO_TOKEN &&
       (t_expiring == 0 || p_cached > t_expiring) ->
        x_via = VIA_MEMORY; x_ans = 1; x_t = p_cached; x_req = 0; x_cookie = 0;
        p_last = p_cached
    :: else ->
        assert(p_session == S_SIGNED_IN);
        x_via = VIA_NETWORK; x_ans = 0; x_t = NO_TOKEN; x_cookie = p_backend;
        /* PerSession { forced_joins: false }: a non-forced call joins the
         * request in flight when a fetch holds it with the same cookie */
        x_found = 0;
        if
        :: !forced && p_inflight != 0 ->
            for (j : 0 .. NF - 1) {
                if
                :: j < c_nf && !x_found && f_via[j] == VIA_NETWORK && f_req[j] == p_inflight - 1 ->
                    x_found = 1;
                    if
                    :: f_cookie[j] == x_cookie -> x_found = 2
                    :: else -> skip
                    fi
                :: else -> skip
                fi
            }
        :: else -> skip
        fi;
        if
        :: x_found == 2 -> x_req = p_inflight - 1
        :: else -> x_req = p_next_req; p_next_req++; p_inflight = x_req + 1
        fi
    fi;
    assert(c_nf < NF);
    f_cur[c_nf] = 1; f_forced[c_nf] = forced; f_cont[c_nf] = cont; f_via[c_nf] = x_via;
    f_req[c_nf] = x_req; f_cookie[c_nf] = x_cookie; f_ans[c_nf] = x_ans; f_tok[c_nf] = x_t;
    c_nf++
}

inline client_set_auth() {
    client_sync();
    set_auth_state(AS_NO_AUTH, 0);
    pause_socket();
    c_cb_live = 1;
    start_fetch(0, K_SET_CONFIG)
}

inline refetch_token(cont) {
    if :: c_as != AS_NO_AUTH -> start_fetch(1, cont) :: else -> skip fi
}

inline on_auth_change(v) {
    if
    :: c_cb_live -> if :: v -> pending_then(P_SET_TRUE) :: else -> pending_then(P_SET_FALSE) fi
    :: else -> skip
    fi
}

inline auth_failed() {
    on_auth_change(0);
    set_auth_state(AS_NO_AUTH, 0)
}

inline refetch_continues(tk) {
    if
    :: c_as == AS_NO_AUTH ->
        if :: tk == NO_TOKEN && c_auth != NO_TOKEN -> client_clear_auth() :: else -> skip fi;
        anomaly = (tk == NO_TOKEN -> AN_READ_IN_NOAUTH : AN_CONFIG_LOST)
    :: else ->
        if
        :: tk != NO_TOKEN && tk != c_auth ->
            set_auth_state(AS_WAIT_FRESH, 0);
            authenticate(tk)
        :: tk != NO_TOKEN && tk == c_auth ->
            set_auth_state(AS_NOT_REFETCHING, 0)
        :: else ->
            if :: c_auth != NO_TOKEN -> client_clear_auth() :: else -> skip fi;
            auth_failed()
        fi;
        try_restart_socket()
    fi
}

inline reauth_after_stop() {
    if :: c_as != AS_NO_AUTH -> start_fetch(1, K_REAUTH) :: else -> skip fi
}

inline reauth_continues(tk) {
    if
    :: c_as == AS_NO_AUTH ->
        anomaly = ((tk != NO_TOKEN && tk != c_auth) -> AN_CONFIG_LOST : AN_READ_IN_NOAUTH)
    :: else ->
        if
        :: tk != NO_TOKEN && tk != c_auth ->
            authenticate(tk);
            set_auth_state(AS_WAIT_FRESH, 0)
        :: else ->
            if :: c_auth != NO_TOKEN -> local_clear_auth() :: else -> skip fi;
            auth_failed()
        fi;
        try_restart_socket()
    fi
}

/* State::token_resolves of fetch fi */
inline token_resolves(fq) {
    x_cur = f_cur[fq]; x_cont = f_cont[fq]; x_t = f_tok[fq];
    assert(f_ans[fq]);
    remove_fetch(fq);
    if
    :: !x_cur ->
        if :: x_cont == K_SET_CONFIG_REFETCH -> resume_socket() :: else -> skip fi
    :: x_cur && x_cont == K_SET_CONFIG ->
        if
        :: x_t != NO_TOKEN ->
            set_auth_state(AS_WAIT_CACHED, 0);
            authenticate(x_t);
            resume_socket()
        :: else ->
            set_auth_state(AS_INITIAL_REFETCH, 0);
            refetch_token(K_SET_CONFIG_REFETCH)
        fi
    :: x_cur && (x_cont == K_SET_CONFIG_REFETCH || x_cont == K_REFETCH) ->
        refetch_continues(x_t);
        if :: x_cont == K_SET_CONFIG_REFETCH -> resume_socket() :: else -> skip fi
    :: x_cur && x_cont == K_REAUTH -> reauth_continues(x_t)
    fi
}

/* State::run_microtasks: memory answers resolve at the end of the step */
inline run_microtasks() {
    do
    :: anomaly == 0 ->
        x_w = NF;
        for (i : 0 .. NF - 1) {
            if :: i < c_nf && f_via[i] == VIA_MEMORY && f_ans[i] && x_w == NF -> x_w = i :: else -> skip fi
        }
        if
        :: x_w < NF -> token_resolves(x_w)
        :: else -> break
        fi
    :: else -> break
    od
}

inline auth_on_transition(st, en) {
    if
    :: en < c_iv -> skip
    :: en >= c_iv && en <= st -> skip
    :: else ->
        if
        :: c_as == AS_WAIT_CACHED ->
            refetch_token(K_REFETCH);
            on_auth_change(1)
        :: c_as == AS_WAIT_FRESH ->
            set_auth_state(AS_WAIT_SCHEDULED, 1);
            c_attempts = 0;
            on_auth_change(1)
        :: else -> skip
        fi
    fi
}

/* x_w = the waiters of conn id once removed from `closing`, 0 if absent */
inline stop_resolved(id) {
    x_w = 0;
    if
    :: c_ncl > 0 && cl_conn[0] == id ->
        x_w = cl_w[0]; cl_conn[0] = cl_conn[1]; cl_w[0] = cl_w[1]; cl_conn[1] = 0; cl_w[1] = 0; c_ncl--
    :: c_ncl > 1 && cl_conn[0] != id && cl_conn[1] == id ->
        x_w = cl_w[1]; cl_conn[1] = 0; cl_w[1] = 0; c_ncl--
    :: else -> skip
    fi;
    assert(x_w <= 1);
    if :: x_w == 1 -> reauth_after_stop() :: else -> skip fi
}

inline try_to_reauthenticate() {
    if
    :: c_as == AS_NO_AUTH || (c_as == AS_WAIT_FRESH && c_attempts >= 2) ->
        if :: c_auth != NO_TOKEN -> local_clear_auth() :: else -> skip fi;
        if :: c_as != AS_NO_AUTH -> auth_failed() :: else -> skip fi
    :: else ->
        if :: c_as == AS_WAIT_FRESH -> c_attempts++ :: else -> skip fi;
        stop_socket();
        if
        :: x_id == 255 -> reauth_after_stop()
        :: else ->
            for (j : 0 .. NCL - 1) {
                if :: j < c_ncl && cl_conn[j] == x_id -> cl_w[j]++ :: else -> skip fi
            }
        fi
    fi
}

inline auth_on_error(ua, base) {
    if
    :: !ua && (c_as == AS_WAIT_FRESH || c_as == AS_WAIT_CACHED) -> skip
    :: else ->
        if
        :: base + 1 < c_iv -> skip
        :: else -> try_to_reauthenticate()
        fi
    fi
}

inline refresh_view() {
    c_view = ((c_rem && c_q && c_q_id == c_rem_q) -> c_rem_o : 0)
}

/* one result (q, o) of a Transition into the RemoteQuerySet; only the
 * current query's entry is kept (the others are dropped by normalize_dead
 * at the end of the step and skipped by refresh_view) */
inline apply_result(q, o) {
    if
    :: c_rem && c_rem_q == q -> c_rem = 0; c_rem_q = 0; c_rem_o = 0
    :: else -> skip
    fi;
    if
    :: o != 0 && c_q && c_q_id == q -> assert(!c_rem); c_rem = 1; c_rem_q = q; c_rem_o = o
    :: else -> skip
    fi
}

/* ------------------------------------------------------------ server parts */

/* State::evaluate of q:list0 (auth = "required"): x_o */
inline evaluate(ident, stamp) {
    trig = trig | QRA;
    if
    :: ident == NO_TOKEN -> x_o = OUT_UNAUTH; viol = viol | QRA
    :: else -> x_o = OUT_VAL_A;
        if :: stamp -> viol = viol | NSI :: else -> skip fi
    fi
}

inline server_close(ci) {
    push_down(ci, SF_CLOSE, 0, 0, 0, 0, 0, 0, 0, 0);
    s_closed[ci] = 1;
    clear_up(ci)
}

inline auth_error_and_close(ci, ua) {
    push_down(ci, SF_AUTH_ERROR, s_ver[ci], 0, 0, 0, 0, 0, 0, ua);
    server_close(ci)
}

/* Conn::update_unsent */
#define UPDATE_UNSENT(ci) (s_upd[ci] && nd[ci] > 0 && d_k[UI(ci, nd[ci] - 1)] == SF_TRANSITION && \
    d_e[UI(ci, nd[ci] - 1)] == s_ver[ci] && d_s[UI(ci, nd[ci] - 1)] + 1 == d_e[UI(ci, nd[ci] - 1)])

inline abandon_pending_update(ci) {
    k = nd[ci] - 1;
    assert(d_k[UI(ci, k)] == SF_TRANSITION);
    s_upd[ci] = 0;
    s_ver[ci] = d_s[UI(ci, k)];
    if :: d_f[UI(ci, k)] -> s_sent[ci] = 0 :: else -> skip fi;
    d_k[UI(ci, k)] = 0; d_s[UI(ci, k)] = 0; d_e[UI(ci, k)] = 0; d_nr[UI(ci, k)] = 0;
    d_q1[UI(ci, k)] = 0; d_o1[UI(ci, k)] = 0; d_q2[UI(ci, k)] = 0; d_o2[UI(ci, k)] = 0;
    d_f[UI(ci, k)] = 0;
    nd[ci]--
}

/* one query modification m of a ModifyQuerySet: r_* results */
inline server_mod(ci, m) {
    x_q = m >> 2;
    if
    :: (m & 3) == MOD_ADD ->
        evaluate(s_ident[ci], y_st);
        assert(!s_sub[ci]);
        s_sub[ci] = 1; s_sub_q[ci] = x_q; s_sub_o[ci] = x_o
    :: (m & 3) == MOD_REM ->
        if :: s_sub[ci] && s_sub_q[ci] == x_q -> s_sub[ci] = 0; s_sub_q[ci] = 0; s_sub_o[ci] = 0 :: else -> skip fi;
        x_o = 0
    fi;
    if
    :: r_nr == 0 -> r_q1 = x_q; r_o1 = x_o
    :: else -> r_q2 = x_q; r_o2 = x_o
    fi;
    r_nr++
}

/* State::server_receives on slot ci */
inline server_receives(ci, reject, bu) {
    pop_up(ci);
    h_upd = s_upd[ci]; s_upd[ci] = 0;
    r_nr = 0; r_q1 = 0; r_o1 = 0; r_q2 = 0; r_o2 = 0;
    if
    :: y_k == CF_CONNECT -> s_session[ci] = 1
    :: y_k == CF_AUTH && y_t != NO_TOKEN && reject ->
        b_rej--;
        if
        :: bu -> s_upd[ci] = h_upd;
            if :: UPDATE_UNSENT(ci) -> abandon_pending_update(ci) :: else -> skip fi
        :: else -> skip
        fi;
        auth_error_and_close(ci, 1)
    :: y_k == CF_AUTH && !(y_t != NO_TOKEN && reject) && y_b != s_ver[ci] ->
        server_close(ci)
    :: y_k == CF_AUTH && !(y_t != NO_TOKEN && reject) && y_b == s_ver[ci] ->
        s_ident[ci] = y_t; x_v = s_ver[ci]; s_ver[ci]++;
        /* rerun */
        if
        :: s_sub[ci] ->
            evaluate(s_ident[ci], y_st);
            if
            :: x_o != s_sub_o[ci] -> r_nr = 1; r_q1 = s_sub_q[ci]; r_o1 = x_o
            :: else -> skip
            fi;
            s_sub_o[ci] = x_o
        :: else -> skip
        fi;
        push_down(ci, SF_TRANSITION, x_v, x_v + 1, r_nr, r_q1, r_o1, 0, 0, 0);
        s_upd[ci] = (b_rej > 0)
    :: y_k == CF_MQS && y_b != s_qsv[ci] ->
        push_down(ci, SF_FATAL, 0, 0, 0, 0, 0, 0, 0, 0);
        server_close(ci)
    :: y_k == CF_MQS && y_b == s_qsv[ci] ->
        s_qsv[ci] = y_n;
        if :: y_nm > 0 -> server_mod(ci, y_m1) :: else -> skip fi;
        if :: y_nm > 1 -> server_mod(ci, y_m2) :: else -> skip fi;
        assert(y_nm <= 2);
        push_down(ci, SF_TRANSITION, s_ver[ci], s_ver[ci], r_nr, r_q1, r_o1, r_q2, r_o2, 0)
    fi
}

/* ------------------------------------------------------------------- React */

inline commit_render() {
    h_conv = CONV;
    h_ia = (HOOK_AUTH && h_conv == O_TRUE);
    h_il = (h_conv == O_NONE);
    h_act = h_ia;
    h_prev = a_rendered;
    if
    :: a_rendered && r_ia && !h_ia && a_auth_as && EFFECTIVE_A -> viol = viol | SA
    :: else -> skip
    fi;
    if
    :: h_ia -> trig = trig | SA; a_auth_as = EFFECTIVE_A
    :: else -> skip
    fi;
    /* no-stale-identity bookkeeping */
    if
    :: a_rendered && r_sess == S_SIGNED_IN && p_session != S_SIGNED_IN -> a_signed_out = 1
    :: else -> skip
    fi;
    if :: p_session == S_SIGNED_IN -> a_signed_out = 0 :: else -> skip fi;
    /* has_passive_effects */
    if
    :: !a_rendered || r_ha != HOOK_AUTH || r_hf != p_fetcher || r_act != h_act ->
        assert(!a_effects);
        a_effects = 1; e_prev = a_rendered;
        e_ha = r_ha; e_hf = r_hf; e_sess = r_sess; e_ia = r_ia; e_il = r_il; e_act = r_act
    :: else -> skip
    fi;
    a_conv = h_conv; a_pending = P_NONE;
    a_rendered = 1;
    r_ha = HOOK_AUTH; r_hf = p_fetcher; r_sess = p_session;
    r_ia = h_ia; r_il = h_il; r_act = h_act
}

inline flush_effects() {
    assert(a_effects && a_rendered);
    h_deps = (!e_prev || e_ha != r_ha || e_hf != r_hf);
    h_had = (e_prev && e_ha);
    h_prev = e_prev; h_prev_act = (e_prev && e_act);
    a_effects = 0; e_prev = 0; e_ha = 0; e_hf = 0; e_sess = 0; e_ia = 0; e_il = 0; e_act = 0;
    /* cleanups: FirstEffect, (no unmounts), LastEffect's clearAuth */
    if
    :: h_deps && h_had ->
        c_cb_live = 0;
        pending_then(P_FIRST_CLEANUP);
        client_clear_auth();
        pending_then(P_SET_NONE)
    :: else -> skip
    fi;
    /* setups: FirstEffect's setAuth, then the components in tree order */
    if :: h_deps && r_ha -> client_set_auth() :: else -> skip fi;
    if
    :: (!h_prev && r_act) || (h_prev && r_act && !h_prev_act) ->
        for (x_cnt : 1 .. INSTANCES) { client_subscribe() }
    :: h_prev && !r_act && h_prev_act ->
        for (x_cnt : 1 .. INSTANCES) { client_unsubscribe() }
    :: else -> skip
    fi
}

/* ------------------------------------------------------------ normalization */

inline normalize_dead() {
    /* normalize_fetch */
    for (i : 0 .. NF - 1) {
        if
        :: i < c_nf && f_via[i] != VIA_MEMORY && f_ans[i] ->
            if
            :: !f_cur[i] ->
                f_cont[i] = (f_cont[i] == K_SET_CONFIG_REFETCH -> K_SET_CONFIG_REFETCH : K_REFETCH);
                f_tok[i] = NO_TOKEN
            :: else -> skip
            fi;
            f_forced[i] = 0; f_via[i] = VIA_DEFERRED; f_req[i] = 0; f_cookie[i] = 0
        :: i < c_nf && f_via[i] != VIA_MEMORY && !f_ans[i] && !f_cur[i] && f_cont[i] != K_SET_CONFIG_REFETCH ->
            f_cont[i] = K_REFETCH
        :: else -> skip
        fi
    }
    /* normalize_stamps */
    for (i : 0 .. NC - 1) {
        if
        :: i < n_n ->
            x_id = s_ident[i];
            for (k : 0 .. QU - 1) {
                if
                :: k < nu[i] ->
                    if
                    :: u_k[UI(i, k)] == CF_CONNECT -> x_keep = 0
                    :: u_k[UI(i, k)] == CF_AUTH -> x_id = u_t[UI(i, k)]; x_keep = (x_id != NO_TOKEN)
                    :: u_k[UI(i, k)] == CF_MQS ->
                        x_keep = ((u_nm[UI(i, k)] > 0 && (u_m1[UI(i, k)] & 3) == MOD_ADD) ||
                                  (u_nm[UI(i, k)] > 1 && (u_m2[UI(i, k)] & 3) == MOD_ADD)) && x_id != NO_TOKEN
                    fi;
                    u_st[UI(i, k)] = u_st[UI(i, k)] & x_keep
                :: else -> skip
                fi
            }
        :: else -> skip
        fi
    }
    /* connections the server closed */
    for (i : 0 .. NC - 1) {
        if
        :: i < n_n && s_closed[i] ->
            x_cur = CUR_IS(n_id[i]);
            clear_up(i);
            x_m = (x_cur -> c_iv : 255);
            for (k : 0 .. QU - 1) {
                if
                :: k < nd[i] && d_k[UI(i, k)] == SF_TRANSITION ->
                    x_m = (d_s[UI(i, k)] < x_m -> d_s[UI(i, k)] : x_m);
                    x_m = (d_e[UI(i, k)] < x_m -> d_e[UI(i, k)] : x_m)
                :: k < nd[i] && d_k[UI(i, k)] == SF_AUTH_ERROR ->
                    x_m = (d_s[UI(i, k)] < x_m -> d_s[UI(i, k)] : x_m)
                :: else -> skip
                fi
            }
            if :: !x_cur -> s_ident[i] = NO_TOKEN :: else -> skip fi;
            s_ver[i] = (x_m == 255 -> 0 : x_m);
            s_qsv[i] = (x_cur -> c_qsv : 0);
            s_sent[i] = 0; s_sub[i] = 0; s_sub_q[i] = 0; s_sub_o[i] = 0;
            s_session[i] = 0; s_upd[i] = 0
        :: else -> skip
        fi
    }
    /* RemoteQuerySet entries of queries no longer in the query set */
    if
    :: c_rem && !(c_q && c_q_id == c_rem_q) -> c_rem = 0; c_rem_q = 0; c_rem_o = 0
    :: else -> skip
    fi;
    /* expiring_upto is read (Clerk caches until expiry): kept */
    /* WaitingForServerConfirmationOfFreshToken: token and had_auth reset
     * (the port keeps neither) */
    if
    :: a_effects && e_prev ->
        e_il = 0;
        e_sess = (e_sess == S_SIGNED_IN -> S_SIGNED_IN : S_SIGNED_OUT)
    :: else -> skip
    fi;
    /* never signed out for good: sign_in is allowed and used only after the sign-out */
    assert(!(p_session == S_SIGNED_OUT && (p_used & SIGNING_OUT) == 0 && (p_used & USED_SIGN_IN) != 0))
}

/* x_r = the number of names in x_mask below v */
inline rank(v) {
    x_r = 0;
    for (j : 0 .. 30) {
        if :: j < v && ((x_mask >> j) & 1) -> x_r++ :: else -> skip fi
    }
}
#define DENSE ((x_mask & (x_mask + 1)) == 0)
#define ADD_TOK(t) if :: t != NO_TOKEN -> assert(t <= 30); x_mask = x_mask | (1 << (t - 1)) :: else -> skip fi
#define REN_TOK(t) if :: t != NO_TOKEN -> rank(t - 1); t = x_r + 1 :: else -> skip fi

inline normalize_versions() {
    x_on = 0;
    for (i : 0 .. NC - 1) {
        if
        :: i < n_n ->
            x_mi = s_ver[i]; x_mq = s_qsv[i];
            for (k : 0 .. QU - 1) {
                if
                :: k < nu[i] && u_k[UI(i, k)] == CF_AUTH ->
                    x_mi = (u_b[UI(i, k)] < x_mi -> u_b[UI(i, k)] : x_mi)
                :: k < nu[i] && u_k[UI(i, k)] == CF_MQS ->
                    x_mq = (u_b[UI(i, k)] < x_mq -> u_b[UI(i, k)] : x_mq);
                    x_mq = (u_n[UI(i, k)] < x_mq -> u_n[UI(i, k)] : x_mq)
                :: else -> skip
                fi;
                if
                :: k < nd[i] && d_k[UI(i, k)] == SF_TRANSITION ->
                    x_mi = (d_s[UI(i, k)] < x_mi -> d_s[UI(i, k)] : x_mi);
                    x_mi = (d_e[UI(i, k)] < x_mi -> d_e[UI(i, k)] : x_mi)
                :: k < nd[i] && d_k[UI(i, k)] == SF_AUTH_ERROR ->
                    x_mi = (d_s[UI(i, k)] < x_mi -> d_s[UI(i, k)] : x_mi)
                :: else -> skip
                fi
            }
            x_untouched = (nu[i] == 0 && nd[i] == 0 && !s_sent[i] && s_ver[i] == 0 && s_qsv[i] == 0);
            if
            :: CUR_IS(n_id[i]) && !x_untouched ->
                x_on = 1;
                x_t = (c_iv > CLIENT_FLOOR -> c_iv - CLIENT_FLOOR : 0);
                x_mi = (c_iv < x_mi -> c_iv : x_mi); x_mi = (x_t < x_mi -> x_t : x_mi);
                x_t = (c_qsv > CLIENT_FLOOR -> c_qsv - CLIENT_FLOOR : 0);
                x_mq = (c_qsv < x_mq -> c_qsv : x_mq); x_mq = (x_t < x_mq -> x_t : x_mq);
                c_iv = c_iv - x_mi; c_qsv = c_qsv - x_mq
            :: else -> skip
            fi;
            if
            :: x_mi != 0 || x_mq != 0 ->
                s_ver[i] = s_ver[i] - x_mi; s_qsv[i] = s_qsv[i] - x_mq;
                for (k : 0 .. QU - 1) {
                    if
                    :: k < nu[i] && u_k[UI(i, k)] == CF_AUTH -> u_b[UI(i, k)] = u_b[UI(i, k)] - x_mi
                    :: k < nu[i] && u_k[UI(i, k)] == CF_MQS ->
                        u_b[UI(i, k)] = u_b[UI(i, k)] - x_mq; u_n[UI(i, k)] = u_n[UI(i, k)] - x_mq
                    :: else -> skip
                    fi;
                    if
                    :: k < nd[i] && d_k[UI(i, k)] == SF_TRANSITION ->
                        d_s[UI(i, k)] = d_s[UI(i, k)] - x_mi; d_e[UI(i, k)] = d_e[UI(i, k)] - x_mi
                    :: k < nd[i] && d_k[UI(i, k)] == SF_AUTH_ERROR ->
                        d_s[UI(i, k)] = d_s[UI(i, k)] - x_mi
                    :: else -> skip
                    fi
                }
            :: else -> skip
            fi
        :: else -> skip
        fi
    }
    if
    :: !x_on ->
        c_iv = (c_iv > CLIENT_FLOOR -> CLIENT_FLOOR : c_iv);
        c_qsv = (c_qsv > CLIENT_FLOOR -> CLIENT_FLOOR : c_qsv)
    :: else -> skip
    fi
}

inline normalize_time() {
    normalize_versions();
    /* tokens */
    x_mask = 0;
    assert(p_issued < 31);
    x_mask = x_mask | (1 << p_issued);
    ADD_TOK(p_cached); ADD_TOK(p_last); ADD_TOK(t_expiring); ADD_TOK(c_auth);
    for (i : 0 .. NF - 1) {
        if :: i < c_nf && f_ans[i] -> ADD_TOK(f_tok[i]) :: else -> skip fi
    }
    for (i : 0 .. NC - 1) {
        if
        :: i < n_n ->
            ADD_TOK(s_ident[i]);
            for (k : 0 .. QU - 1) {
                if :: k < nu[i] && u_k[UI(i, k)] == CF_AUTH -> ADD_TOK(u_t[UI(i, k)]) :: else -> skip fi
            }
        :: else -> skip
        fi
    }
    if
    :: !DENSE ->
        rank(p_issued); p_issued = x_r;
        REN_TOK(p_cached); REN_TOK(p_last); REN_TOK(t_expiring); REN_TOK(c_auth);
        for (i : 0 .. NF - 1) {
            if :: i < c_nf && f_ans[i] -> REN_TOK(f_tok[i]) :: else -> skip fi
        }
        for (i : 0 .. NC - 1) {
            if
            :: i < n_n ->
                REN_TOK(s_ident[i]);
                for (k : 0 .. QU - 1) {
                    if :: k < nu[i] && u_k[UI(i, k)] == CF_AUTH -> REN_TOK(u_t[UI(i, k)]) :: else -> skip fi
                }
            :: else -> skip
            fi
        }
    :: else -> skip
    fi;
    /* backend requests */
    x_mask = (1 << p_next_req);
    if :: p_inflight != 0 -> x_mask = x_mask | (1 << (p_inflight - 1)) :: else -> skip fi;
    for (i : 0 .. NF - 1) {
        if :: i < c_nf && f_via[i] == VIA_NETWORK -> x_mask = x_mask | (1 << f_req[i]) :: else -> skip fi
    }
    if
    :: !DENSE ->
        rank(p_next_req); p_next_req = x_r;
        if :: p_inflight != 0 -> rank(p_inflight - 1); p_inflight = x_r + 1 :: else -> skip fi;
        for (i : 0 .. NF - 1) {
            if :: i < c_nf && f_via[i] == VIA_NETWORK -> rank(f_req[i]); f_req[i] = x_r :: else -> skip fi
        }
    :: else -> skip
    fi
}

/* ---------------------------------------------------------------- steps */

#ifdef DUMP
hidden byte d_i;
inline dump() {
    printf("S p=%d,%d,%d,%d,%d,%d,%d,%d,%d ", p_session, p_backend, p_inflight, p_next_req,
        p_fetcher, p_issued, p_cached, p_last, p_used);
    printf("a=%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d ",
        a_rendered, r_ha, r_hf, r_sess, r_ia, r_il, r_act,
        a_effects, e_prev, e_ha, e_hf, e_sess, e_ia, e_il, e_act,
        a_conv, a_pending, a_signed_out, a_auth_as, INSTANCES);
    printf("c=%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d ",
        c_ws, c_ws_conn, c_ws_paused, c_next_conn, c_auth, c_iv, c_paused, c_q, c_q_id, c_q_subs,
        c_next_query, c_qsv, c_rem, c_rem_q, c_rem_o, c_rem_from, c_view, c_as, c_as_flag,
        c_attempts, c_cb_live, anomaly, t_expiring);
    printf("b=%d,%d,%d m=%d,%d cl=", b_drops, b_refr, b_rej, viol, trig);
    for (d_i : 0 .. NCL - 1) { if :: d_i < c_ncl -> printf("%d.%d;", cl_conn[d_i], cl_w[d_i]) :: else -> skip fi };
    printf(" pm=");
    for (d_i : 0 .. NP - 1) { if :: d_i < c_np -> printf("%d;", c_pm[d_i]) :: else -> skip fi };
    printf(" f=");
    for (d_i : 0 .. NF - 1) {
        if
        :: d_i < c_nf -> printf("%d.%d.%d.%d.%d.%d.%d.%d;", f_cur[d_i], f_forced[d_i], f_cont[d_i],
            f_via[d_i], f_req[d_i], f_cookie[d_i], f_ans[d_i], f_tok[d_i])
        :: else -> skip
        fi
    };
    printf(" n=");
    for (d_i : 0 .. NC - 1) {
        if
        :: d_i < n_n ->
            printf("%d.%d.%d.%d.%d.%d.%d.%d.%d.%d.%d.%d:", n_id[d_i], n_opened[d_i], s_ident[d_i],
                s_ver[d_i], s_qsv[d_i], s_sent[d_i], s_sub[d_i], s_sub_q[d_i], s_sub_o[d_i],
                s_closed[d_i], s_session[d_i], s_upd[d_i]);
            for (k : 0 .. QU - 1) {
                if
                :: k < nu[d_i] -> printf("%d.%d.%d.%d.%d.%d.%d.%d,", u_k[UI(d_i, k)], u_t[UI(d_i, k)],
                    u_b[UI(d_i, k)], u_n[UI(d_i, k)], u_nm[UI(d_i, k)], u_m1[UI(d_i, k)],
                    u_m2[UI(d_i, k)], u_st[UI(d_i, k)])
                :: else -> skip
                fi
            };
            printf(":");
            for (k : 0 .. QU - 1) {
                if
                :: k < nd[d_i] -> printf("%d.%d.%d.%d.%d.%d.%d.%d.%d,", d_k[UI(d_i, k)], d_s[UI(d_i, k)],
                    d_e[UI(d_i, k)], d_nr[UI(d_i, k)], d_q1[UI(d_i, k)], d_o1[UI(d_i, k)],
                    d_q2[UI(d_i, k)], d_o2[UI(d_i, k)], d_f[UI(d_i, k)])
                :: else -> skip
                fi
            };
            printf(";")
        :: else -> skip
        fi
    };
    printf("\n");
    d_i = 0; k = 0
}
#define DUMP_STATE dump()
#define DUMP_INIT if :: !a_rendered -> dump() :: else -> skip fi
#else
#define DUMP_STATE skip
#define DUMP_INIT skip
#endif

#ifdef CHECK_PROPS
#define CHECK assert(!(viol & QRA)); assert(!(viol & NSI)); assert(!(viol & SA))
#else
#define CHECK skip
#endif

#define CLEAR_SCRATCH i = 0; j = 0; k = 0; x_t = 0; x_b = 0; x_r = 0; x_v = 0; x_o = 0; x_q = 0; \
    x_ci = 0; x_cj = 0; x_m = 0; x_n = 0; x_cnt = 0; x_w = 0; x_fi = 0; x_ans = 0; x_cont = 0; \
    x_cur = 0; x_forced = 0; x_via = 0; x_req = 0; x_cookie = 0; y_k = 0; y_t = 0; y_b = 0; \
    y_n = 0; y_nm = 0; y_m1 = 0; y_m2 = 0; y_st = 0; z_k = 0; z_s = 0; z_e = 0; z_nr = 0; \
    z_q1 = 0; z_o1 = 0; z_q2 = 0; z_o2 = 0; z_f = 0; h_conv = 0; h_ia = 0; h_il = 0; h_act = 0; \
    h_deps = 0; h_had = 0; h_prev = 0; h_prev_act = 0; h_upd = 0; x_mi = 0; x_mq = 0; x_on = 0; \
    x_untouched = 0; x_keep = 0; x_id = 0; x_tt = 0; x_found = 0; x_sent = 0; x_mask = 0; \
    q_cnt = 0; q_m1 = 0; q_m2 = 0; r_nr = 0; r_q1 = 0; r_o1 = 0; r_q2 = 0; r_o2 = 0

#define BEGIN viol = 0; trig = 0
/* run_microtasks, observe (no-stale-identity's trigger), then the normalizations */
#define END }; d_step { run_microtasks() }; \
    d_step { if :: a_signed_out -> trig = trig | NSI :: else -> skip fi; normalize_dead() }; \
    d_step { normalize_time(); CLEAR_SCRATCH; CHECK; DUMP_STATE

#define LIVE (anomaly == 0)

/* ProviderAnswers { fetch: fi }: the first fetch of an unanswered backend request */
inline a_provider_answers(fq) {
    atomic { d_step { LIVE && a_rendered && fq < c_nf && !f_ans[fq] && f_via[fq] == VIA_NETWORK &&
             (fq == 0 || !(f_via[0] == VIA_NETWORK && f_req[0] == f_req[fq])) &&
             (fq <= 1 || !(f_via[1] == VIA_NETWORK && f_req[1] == f_req[fq])) &&
             (fq <= 2 || !(f_via[2] == VIA_NETWORK && f_req[2] == f_req[fq])) &&
             (fq <= 3 || !(f_via[3] == VIA_NETWORK && f_req[3] == f_req[fq])) ->
        BEGIN;
        if
        :: f_cookie[fq] && p_backend -> x_t = p_issued + 1; p_issued++; p_cached = x_t; p_last = x_t
        :: else -> x_t = NO_TOKEN
        fi;
        x_req = f_req[fq];
        for (j : 0 .. NF - 1) {
            if :: j < c_nf && f_via[j] == VIA_NETWORK && f_req[j] == x_req -> f_ans[j] = 1; f_tok[j] = x_t :: else -> skip fi
        }
        if :: p_inflight == x_req + 1 -> p_inflight = 0 :: else -> skip fi;
        END } }
}

/* ClientTokenResolves { fetch: fi } */
inline a_token_resolves(fq) {
    atomic { d_step { LIVE && fq < c_nf && f_ans[fq] && f_via[fq] != VIA_MEMORY ->
        BEGIN; token_resolves(fq); END } }
}

/* ClientReceives { conn } on slot ci */
inline a_client_receives(ci) {
    atomic { d_step { LIVE && ci < n_n && nd[ci] > 0 && (CUR_IS(n_id[ci]) || IS_CLOSING(n_id[ci])) ->
        BEGIN;
        x_id = n_id[ci];
        pop_down(ci);
        if
        :: IS_CLOSING(x_id) ->
            if
            :: z_k == SF_CLOSE -> remove_conn(x_id); stop_resolved(x_id)
            :: else -> skip
            fi
        :: else ->
            if
            :: z_k == SF_TRANSITION ->
                auth_on_transition(z_s, z_e);
                if
                :: anomaly == 0 && ((z_f && c_rem_from == 0) || (!z_f && c_rem_from == x_id + 1)) ->
                    c_rem_from = x_id + 1;
                    if :: z_nr > 0 -> apply_result(z_q1, z_o1) :: else -> skip fi;
                    if :: z_nr > 1 -> apply_result(z_q2, z_o2) :: else -> skip fi;
                    refresh_view()
                :: else -> skip
                fi
            :: z_k == SF_AUTH_ERROR -> auth_on_error(z_f, z_s)
            :: z_k == SF_FATAL ->
                c_ws = WS_TERMINATED; c_ws_conn = 0; c_ws_paused = 0;
                assert(c_ncl < NCL); cl_conn[c_ncl] = x_id; cl_w[c_ncl] = 0; c_ncl++
            :: z_k == SF_CLOSE -> remove_conn(x_id); on_close()
            fi
        fi;
        END } }
}

/* ClientCloseCompletes { conn } on slot ci */
inline a_close_completes(ci) {
    atomic { d_step { LIVE && ci < n_n && IS_CLOSING(n_id[ci]) && nu[ci] == 0 && !s_closed[ci] ->
        BEGIN; x_id = n_id[ci]; remove_conn(x_id); stop_resolved(x_id); END } }
}

/* ServerReceives { conn, reject, before_update } on slot ci */
inline a_server_receives(ci) {
    atomic { d_step { LIVE && ci < n_n && n_opened[ci] && !s_closed[ci] && nu[ci] > 0 ->
        BEGIN; server_receives(ci, 0, 0); END } }
}
#define REJECTABLE(ci) (b_rej > 0 && u_k[UI(ci, 0)] == CF_AUTH && u_t[UI(ci, 0)] != NO_TOKEN)
inline a_server_rejects(ci) {
    atomic { d_step { LIVE && ci < n_n && n_opened[ci] && !s_closed[ci] && nu[ci] > 0 && REJECTABLE(ci) ->
        BEGIN; server_receives(ci, 1, 0); END } }
}
inline a_server_rejects_before_update(ci) {
    atomic { d_step { LIVE && ci < n_n && n_opened[ci] && !s_closed[ci] && nu[ci] > 0 && REJECTABLE(ci) &&
             UPDATE_UNSENT(ci) ->
        BEGIN; server_receives(ci, 1, 1); END } }
}

/* NetworkDrops { conn } on slot ci */
inline a_network_drops(ci) {
    atomic { d_step { LIVE && ci < n_n && b_drops > 0 ->
        BEGIN;
        b_drops--;
        x_id = n_id[ci];
        remove_conn(x_id);
        if
        :: IS_CLOSING(x_id) -> stop_resolved(x_id)
        :: !IS_CLOSING(x_id) && CUR_IS(x_id) -> on_close()
        :: else -> skip
        fi;
        END } }
}

active proctype authrace()
{
end:
    do
    /* Commit */
    :: atomic { d_step { LIVE && NEEDS_COMMIT -> DUMP_INIT; BEGIN;
        if :: a_effects -> flush_effects() :: else -> skip fi;
        commit_render();
        END } }

    /* Effects */
    :: atomic { d_step { LIVE && a_effects -> BEGIN; flush_effects(); END } }

    /* ProviderSignOut { switching: false }: the backend ends the session
     * (sign_out_window: the hook still shows the user) */
    :: atomic { d_step { LIVE && a_rendered && (p_used & SIGNING_OUT) == 0 && p_session == S_SIGNED_IN &&
                (p_used & USED_SIGN_OUT) == 0 ->
        BEGIN;
        p_used = p_used | SIGNING_OUT | USED_SIGN_OUT;
        p_backend = 0;
        a_auth_as = 0;
        END } }

    /* ProviderSignOutSeen: the hook shows signed out (no sync render) */
    :: atomic { d_step { LIVE && a_rendered && (p_used & SIGNING_OUT) != 0 ->
        BEGIN;
        p_used = p_used & ~SIGNING_OUT;
        /* session_changes(SignedOut): the user changes: cache dropped,
         * fetcher rebuilt; the effective user was already none */
        x_t = EFFECTIVE_A;
        p_session = S_SIGNED_OUT; p_cached = NO_TOKEN; p_fetcher++;
        if :: x_t != EFFECTIVE_A -> a_auth_as = 0 :: else -> skip fi;
        END } }

    /* ProviderSignIn { user: A } */
    :: atomic { d_step { LIVE && a_rendered && (p_used & SIGNING_OUT) == 0 && p_session == S_SIGNED_OUT &&
                (p_used & USED_SIGN_IN) == 0 ->
        BEGIN;
        p_used = p_used | USED_SIGN_IN;
        x_t = EFFECTIVE_A;
        p_session = S_SIGNED_IN; p_cached = NO_TOKEN; p_fetcher++;
        a_signed_out = 0;
        if :: x_t != EFFECTIVE_A -> a_auth_as = 0 :: else -> skip fi;
        /* backend_signs_in */
        p_backend = 1;
        END } }

    :: a_provider_answers(0)
    :: a_provider_answers(1)
    :: a_provider_answers(2)
    :: a_provider_answers(3)
    :: a_provider_answers(4)
    :: a_token_resolves(0)
    :: a_token_resolves(1)
    :: a_token_resolves(2)
    :: a_token_resolves(3)
    :: a_token_resolves(4)

    /* ClientReconnects */
    :: atomic { d_step { LIVE && c_ws == WS_DISCONNECTED -> BEGIN; ws_connect(); END } }

    /* ClientSocketOpens */
    :: atomic { d_step { LIVE && c_ws == WS_CONNECTING && n_n > 0 &&
                (n_id[0] == c_ws_conn || (n_n > 1 && n_id[1] == c_ws_conn) || (n_n > 2 && n_id[2] == c_ws_conn)) ->
        BEGIN;
        find_conn(c_ws_conn);
        n_opened[x_ci] = 1;
        if
        :: c_ws_paused -> c_ws = WS_READY; c_ws_paused = RP_UNINIT
        :: else -> c_ws = WS_READY; c_ws_paused = RP_NO; on_open()
        fi;
        END } }

    :: a_client_receives(0)
    :: a_client_receives(1)
    :: a_client_receives(2)
    :: a_close_completes(0)
    :: a_close_completes(1)
    :: a_close_completes(2)

    /* ClientRefetchTimer */
    :: atomic { d_step { LIVE && c_as == AS_WAIT_SCHEDULED && c_as_flag && b_refr > 0 ->
        BEGIN;
        b_refr--;
        c_as_flag = 0;
        if
        :: c_auth != NO_TOKEN -> t_expiring = (c_auth > t_expiring -> c_auth : t_expiring)
        :: else -> skip
        fi;
        refetch_token(K_REFETCH);
        END } }

    :: a_server_receives(0)
    :: a_server_receives(1)
    :: a_server_receives(2)
    :: a_server_rejects(0)
    :: a_server_rejects(1)
    :: a_server_rejects(2)
    :: a_server_rejects_before_update(0)
    :: a_server_rejects_before_update(1)
    :: a_server_rejects_before_update(2)
    :: a_network_drops(0)
    :: a_network_drops(1)
    :: a_network_drops(2)
    od
}
