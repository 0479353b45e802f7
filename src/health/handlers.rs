use actix_web::{HttpResponse, web};
use diesel::prelude::*;
use serde::Serialize;

use crate::app::AppState;
use crate::db;

/// Whether the service is up and reaches its database.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` or `unavailable`.
    #[schema(value_type = String, examples("ok", "unavailable"))]
    status: &'static str,
    /// `ok` or `unreachable`.
    #[schema(value_type = String, examples("ok", "unreachable"))]
    database: &'static str,
}

/// 200 when the database answers, 503 when it does not; both in JSON.
#[utoipa::path(
    get,
    path = "/healthz",
    summary = "Liveness and database reachability",
    security(()),
    responses(
        (status = 200, description = "Up, and the database answers", body = Health),
        (status = 503, description = "The database does not answer (with `Retry-After`)", body = Health),
    )
)]
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let ok = db::run(&state.pool, |conn| {
        diesel::sql_query("SELECT 1").execute(conn)?;
        Ok(())
    })
    .await
    .is_ok();
    if ok {
        HttpResponse::Ok().json(Health { status: "ok", database: "ok" })
    } else {
        HttpResponse::ServiceUnavailable()
            .insert_header(("Retry-After", "5"))
            .json(Health { status: "unavailable", database: "unreachable" })
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
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(&state.pool))
}
