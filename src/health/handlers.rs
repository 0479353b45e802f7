use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::app::AppState;
use crate::db;

/// Whether the service is up and reaches its database.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` or `unavailable`.
    #[schema(value_type = String, examples("ok", "unavailable"))]
    status: &'static str,
    /// `ok`, `unreachable` (no primary answers: down, or a failover under way) or `read-only`
    /// (the server reached is a standby, so writes would fail).
    #[schema(value_type = String, examples("ok", "unreachable", "read-only"))]
    database: &'static str,
    /// Only with `DATABASE_READ_URL`: `ok`, `unreachable` (reads go to the primary meanwhile) or
    /// `primary` (the read URL reached a primary, e.g. after a failover promoted the standby).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, examples("ok", "unreachable", "primary"))]
    replica: Option<&'static str>,
    /// Only with `DATABASE_READ_URL`: how many seconds the replica is behind.
    #[serde(skip_serializing_if = "Option::is_none")]
    replica_lag_seconds: Option<f64>,
}

/// 200 when the primary answers and accepts writes; 503 with `Retry-After` when it cannot be
/// reached or the server reached is read-only; both in JSON. The read replica's state is
/// reported beside it and never makes the service unhealthy (reads fall back to the primary).
#[utoipa::path(
    get,
    path = "/healthz",
    summary = "Liveness and database reachability",
    security(()),
    responses(
        (status = 200, description = "Up: the primary answers and accepts writes", body = Health),
        (status = 503, description = "No writable primary: `database` is `unreachable` (down, or a failover under way) or `read-only` (the server reached is a standby); with `Retry-After`", body = Health),
    )
)]
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let primary = db::run(&state.pool, |conn| Ok(db::server_state(conn)?)).await;
    let (replica, replica_lag_seconds) = match &state.read_pool {
        None => (None, None),
        Some(read) => match db::run(read, |conn| Ok(db::server_state(conn)?)).await {
            Ok(s) if s.in_recovery => (Some("ok"), s.lag_seconds.map(|l| (l * 10.0).round() / 10.0)),
            Ok(_) => (Some("primary"), Some(0.0)),
            Err(_) => (Some("unreachable"), None),
        },
    };
    let database = match primary {
        Ok(s) if !s.in_recovery => "ok",
        Ok(_) => "read-only",
        Err(_) => "unreachable",
    };
    let health = Health {
        status: if database == "ok" { "ok" } else { "unavailable" },
        database,
        replica,
        replica_lag_seconds,
    };
    if database == "ok" {
        HttpResponse::Ok().json(health)
    } else {
        HttpResponse::ServiceUnavailable().insert_header(("Retry-After", "5")).json(health)
    }
}

/// Prometheus text: requests and latencies per route pattern, pool connections.
#[utoipa::path(
    get,
    path = "/metrics",
    summary = "Prometheus metrics",
    security(()),
    responses((status = 200, description = "Prometheus text format 0.0.4", body = String,
        content_type = "text/plain; version=0.0.4; charset=utf-8"))
)]
pub async fn metrics(state: web::Data<AppState>, req: actix_web::HttpRequest) -> HttpResponse {
    // Only for the monitoring system: the TCP peer itself (never a forwarded address) must be
    // loopback or in `METRICS_NETWORKS`; anyone else gets a 404 in the error shape, as if there
    // were no such address (route names and traffic are no one else's business; SECURITY.md 14).
    let peer = req.peer_addr().map(|a| a.ip());
    let allowed = peer.is_some_and(|ip| {
        let ip = match ip {
            std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map(std::net::IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        ip.is_loopback() || crate::kernel::net::any_contains(&state.config.metrics_networks, ip)
    });
    if !allowed {
        return actix_web::ResponseError::error_response(&crate::error::AppError::not_found(
            "not_found",
            "There is nothing at this address.",
        ));
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(&state.pool))
}
