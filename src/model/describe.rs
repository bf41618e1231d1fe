//! Readable descriptions of the model's own values: action titles and a
//! per-actor view of a state (the explorer's lists and `stateright`'s
//! `format_action` / `format_step`).

use super::client::{AuthState, Paused, Ws};
use super::msg::user_name;
use super::{Action, Ctx, State};
use crate::scenario::properties::PropertyId;

/// A short, state-independent title for an action (the explorer's list).
pub fn action_title(ctx: &Ctx, action: &Action) -> String {
    let _ = ctx;
    match action {
        Action::Commit => "React: render and commit".to_string(),
        Action::Effects => "React: passive effects".to_string(),
        Action::ProviderResolves => "Provider: session loads (signed in as A)".to_string(),
        Action::ProviderSignIn { user } => {
            format!("Provider: user signs in as {}", user_name(*user))
        }
        Action::ProviderSignOut { switching: false } => "Provider: user signs out".to_string(),
        Action::ProviderSignOut { switching: true } => {
            "Provider: user signs out to switch user".to_string()
        }
        Action::ProviderSignOutSeen => "Provider: its client state shows the sign-out".to_string(),
        Action::ProviderNewFetcher => "Provider: new fetchAccessToken (same user)".to_string(),
        Action::ProviderAnswers {
            fetch,
            transient_null: false,
        } => format!("Provider -> Client: answer token request #{fetch}"),
        Action::ProviderAnswers {
            fetch,
            transient_null: true,
        } => format!("Provider -> Client: token request #{fetch} fails transiently (null)"),
        Action::ClientTokenResolves { fetch } => {
            format!("Client: token request #{fetch} resolves")
        }
        Action::ClientReconnects => "Client: reconnect timer fires".to_string(),
        Action::ClientSocketOpens => "Client: socket opens".to_string(),
        Action::ClientReceives { conn } => format!("Server -> Client: next frame on conn {conn}"),
        Action::ClientCloseCompletes { conn } => format!("Client: close of conn {conn} completes"),
        Action::ClientRefetchTimer => "Client: scheduled token refetch fires".to_string(),
        Action::ServerReceives {
            conn,
            reject,
            before_update,
        } => format!(
            "Client -> Server: next frame on conn {conn}{}{}",
            if *reject { ", token rejected" } else { "" },
            if *before_update {
                ", before the previous update is built"
            } else {
                ""
            }
        ),
        Action::TokenExpires { conn } => format!("Time: the token on conn {conn} expires"),
        Action::NetworkDrops { conn } => format!("Network: conn {conn} drops"),
        Action::ServerWebhook { user } => {
            format!("Server: webhook inserts {}'s users row", user_name(*user))
        }
    }
}

/// A readable per-actor view of a state.
pub fn render_state(ctx: &Ctx, s: &State) -> String {
    let mut out = String::new();
    let hook = s.provider.hook(ctx);
    out.push_str(&format!(
        "Provider: {} (hook isLoading={}, isAuthenticated={}, fetcher #{}); cached {}; last handed out {}\n",
        s.provider.session.describe(),
        hook.loading,
        hook.authenticated,
        s.provider.fetcher,
        s.provider.cached.map_or("none".to_string(), |t| t.to_string()),
        s.provider.last.map_or("none".to_string(), |t| t.to_string()),
    ));
    match &s.app.committed {
        None => out.push_str("React: not rendered yet\n"),
        Some(r) => {
            let comps: Vec<String> = ctx
                .components
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let st = if !r.is_mounted(i) {
                        "unmounted".to_string()
                    } else if !r.is_active(i) {
                        "skip".to_string()
                    } else {
                        match s.client.view_of(c.query) {
                            Some(o) => o.describe(),
                            None => "loading".to_string(),
                        }
                    };
                    format!("{} [{}]: {}", c.name, c.gate.as_str(), st)
                })
                .collect();
            out.push_str(&format!(
                "React: useConvexAuth() isLoading={}, isAuthenticated={}; {}\n",
                r.is_loading,
                r.is_authenticated,
                comps.join("; ")
            ));
        }
    }
    let ws = match s.client.ws {
        Ws::Uncreated => "not created".to_string(),
        Ws::Disconnected => "disconnected (reconnect pending)".to_string(),
        Ws::Connecting { conn, paused } => format!(
            "connecting (conn {conn}{})",
            if paused { ", paused" } else { "" }
        ),
        Ws::Ready { conn, paused } => format!(
            "ready (conn {conn}{})",
            match paused {
                Paused::No => "",
                Paused::Yes => ", paused",
                Paused::Uninitialized => ", paused before onOpen",
            }
        ),
        Ws::Stopped => "stopped".to_string(),
        Ws::Terminated => "terminated (after a FatalError)".to_string(),
    };
    let auth_state = match s.client.auth_state {
        AuthState::WaitingForServerConfirmationOfFreshToken { token, had_auth } => {
            format!("waitingForServerConfirmationOfFreshToken({token}, hadAuth={had_auth})")
        }
        other => other.name().to_string(),
    };
    out.push_str(&format!(
        "Client: auth manager {}; socket {}; auth token {}; identity v{}; {} token request(s) in flight; queries [{}]\n",
        auth_state,
        ws,
        s.client.auth.map_or("none".to_string(), |t| t.to_string()),
        s.client.identity_version,
        s.client.fetches.len(),
        s.client
            .queries
            .iter()
            .map(|q| format!("{}(q{})", ctx.fn_short(q.f), q.id))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    for c in &s.net {
        out.push_str(&format!(
            "Server conn {}: identity {}, v{}, {} subscription(s){}; in flight up {}, down {}\n",
            c.id,
            c.server.identity.map_or("none".to_string(), |t| format!(
                "{} ({t})",
                user_name(t.user)
            )),
            c.server.version,
            c.server.subs.len(),
            if c.server.closed { ", closed" } else { "" },
            c.up.len(),
            c.down.len()
        ));
    }
    let violated: Vec<&str> = PropertyId::ALL
        .iter()
        .filter(|p| s.violations & p.bit() != 0)
        .map(|p| p.as_str())
        .collect();
    if !violated.is_empty() {
        out.push_str(&format!(
            "Violated by the last step: {}\n",
            violated.join(", ")
        ));
    }
    out
}
