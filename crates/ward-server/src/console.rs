//! The web console at `/ui`, for admin and auditor keys: a live overview, costs per tier against
//! the all-cloud reference, backends and their health, recent audit records, profiles and (admin)
//! keys. Pages are one HTML shell and one script that draws from `/ui/api/*`; the assets are
//! compiled into the binary, so the console works offline and loads nothing from elsewhere.
//!
//! A browser cannot send `Authorization` on a navigation, so signing in (`POST /ui/login`) checks
//! the key and keeps it in an HttpOnly, SameSite=Strict cookie scoped to `/ui`; `auth.rs` accepts
//! that cookie on console paths only, and refuses console pages with the sign-in form.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form, Json};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use ward_audit::costs::report_period;
use ward_audit::record::{now_micros, rfc3339_micros};
use ward_audit::{AuditEvent, CostModel, CostReport, CostTally, Outcome};
use ward_core::{ErrorKind, WardError};

use crate::audit::{store_access, time_param};
use crate::auth::{access_of, allows, Access, Caller};
use crate::error::{status_of, ApiError, ApiFlavor};
use crate::routes::AppState;

/// The cookie that carries the signed-in key.
pub const COOKIE: &str = "ward_console";

const SCRIPT: &str = include_str!("../console/console.js");
const STYLE: &str = include_str!("../console/console.css");

/// The pages: path and title. `auth::access_of` says who may see each.
const PAGES: [(&str, &str); 6] = [
    ("/ui", "Overview"),
    ("/ui/costs", "Costs"),
    ("/ui/backends", "Backends"),
    ("/ui/audit", "Audit log"),
    ("/ui/profiles", "Profiles"),
    ("/ui/keys", "Keys"),
];

pub fn is_console(path: &str) -> bool {
    path == "/ui" || path.starts_with("/ui/")
}

/// A console page (HTML), as opposed to its data or assets.
pub fn is_console_page(path: &str) -> bool {
    is_console(path) && !path.starts_with("/ui/api/") && !path.starts_with("/ui/assets/")
}

/// The key in the console's cookie.
pub fn cookie_key(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE && !value.is_empty()).then_some(value)
        })
}

/// The layer over every route: console responses (pages, assets, data, refusals) are never
/// cached (decrypted audit content among them), never framed, and load nothing from elsewhere.
pub async fn secure_headers(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let console = is_console(request.uri().path());
    let mut response = next.run(request).await;
    if !console {
        return response;
    }
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

fn escape(text: &str) -> String {
    ward_clinical::fhir::escape_xml(text)
}

fn document(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · Ward</title><link rel=\"icon\" href=\"data:,\">\
         <link rel=\"stylesheet\" href=\"/ui/assets/console.css\">\
         </head>\n{body}\n</html>\n",
        escape(title)
    )
}

/// The sign-in form, with why the console was refused (401 or 403).
pub fn sign_in_page(error: &WardError) -> Response {
    let (status, _) = status_of(error.kind);
    let body = format!(
        "<body class=\"sign-in\"><main><h1>Ward console</h1>\
         <p class=\"refusal\" role=\"alert\">{}</p>\
         <form method=\"post\" action=\"/ui/login\">\
         <label for=\"key\">API key (admin or auditor)</label>\
         <input id=\"key\" name=\"key\" type=\"password\" autocomplete=\"off\" required>\
         <button type=\"submit\">Sign in</button></form>\
         <p class=\"hint\">Create one with <code>ward keys create --name NAME --role auditor</code>.</p>\
         </main></body>",
        escape(&error.message)
    );
    html(status, document("Sign in", &body))
}

/// `GET /ui` and `/ui/{page}`: the shell the script draws into.
pub async fn page(uri: Uri, Extension(caller): Extension<Caller>) -> Response {
    let path = uri.path().trim_end_matches('/');
    let path = if path.is_empty() { "/ui" } else { path };
    let role = caller.role();
    // The auth middleware has refused pages this role may not see; the menu leaves them out.
    let sees = |page: &str| role.is_none_or(|role| allows(role, access_of(page)));
    let Some((_, title)) = PAGES.iter().find(|(page, _)| *page == path) else {
        let error = WardError::not_found(format!("the console has no page {path}"));
        return html(
            StatusCode::NOT_FOUND,
            document("Not found", &format!("<body><main><h1>Not found</h1><p>{}</p><p><a href=\"/ui\">Overview</a></p></main></body>", escape(&error.message))),
        );
    };
    let mut nav = String::new();
    for (link, name) in PAGES {
        if sees(link) {
            let current = if link == path {
                " aria-current=\"page\""
            } else {
                ""
            };
            let _ = write!(nav, "<a href=\"{link}\"{current}>{name}</a>");
        }
    }
    let who = match (&caller.key, role) {
        (Some(key), Some(role)) => format!(
            "{} key {}{} <form method=\"post\" action=\"/ui/logout\"><button>Sign out</button></form>",
            role,
            escape(&key.id),
            if key.can_decrypt { ", may decrypt" } else { "" }
        ),
        _ => "auth is off".to_owned(),
    };
    let page = path.trim_start_matches("/ui").trim_start_matches('/');
    let body = format!(
        "<body data-page=\"{}\"><header><strong>Ward</strong><nav>{nav}</nav><span class=\"who\">{who}</span></header>\
         <main id=\"page\"><h1>{title}</h1><p class=\"loading\">Loading…</p></main>\
         <script src=\"/ui/assets/console.js\"></script></body>",
        if page.is_empty() { "overview" } else { page },
    );
    html(StatusCode::OK, document(title, &body))
}

/// `GET /ui/assets/{name}`: the script and the style sheet, compiled in.
pub async fn asset(uri: Uri) -> Response {
    let (content_type, text) = match uri.path() {
        "/ui/assets/console.js" => ("text/javascript; charset=utf-8", SCRIPT),
        "/ui/assets/console.css" => ("text/css; charset=utf-8", STYLE),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    ([(header::CONTENT_TYPE, content_type)], text).into_response()
}

#[derive(Deserialize)]
pub struct SignIn {
    key: String,
}

/// `POST /ui/login`: checks the key and keeps it in the console's cookie.
pub async fn sign_in(State(state): State<AppState>, Form(form): Form<SignIn>) -> Response {
    let Some(auth) = &state.auth else {
        return Redirect::to("/ui").into_response();
    };
    let key = form.key.trim();
    let identified = match auth.identify(key).await {
        Ok(found) if allows(found.role, Access::Console) => Ok(()),
        Ok(found) => Err(WardError::new(
            ErrorKind::Forbidden,
            format!(
                "a {} key may not use the console: sign in with an admin or auditor key",
                found.role
            ),
        )),
        Err(error) => Err(error),
    };
    if let Err(error) = identified {
        return sign_in_page(&error);
    }
    // Eight hours: a console left signed in asks again the next working day.
    let cookie = format!("{COOKIE}={key}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=28800");
    let mut response = Redirect::to("/ui").into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// `POST /ui/logout`: forgets the cookie.
pub async fn sign_out() -> Response {
    let mut response = Redirect::to("/ui").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("ward_console=; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    response
}

fn api_error(error: WardError) -> ApiError {
    ApiError::new(ApiFlavor::OpenAi, error)
}

#[derive(Deserialize)]
pub struct Period {
    since: Option<String>,
    until: Option<String>,
}

/// `GET /ui/api/costs?since&until`: `ward report costs` for the period (default: 30 days to now).
pub async fn costs(
    State(state): State<AppState>,
    Query(period): Query<Period>,
) -> Result<Json<CostReport>, ApiError> {
    let (since, until) = report_period(
        time_param("since", period.since.as_deref())?,
        time_param("until", period.until.as_deref())?,
        now_micros(),
    )
    .ok_or_else(|| {
        api_error(
            WardError::invalid_request("`since` must be before `until` and before now")
                .with_param("since"),
        )
    })?;
    let model = state.costs.clone();
    let report = store_access(&state)?
        .store
        .run(move |store| store.cost_report(&model, since, until))
        .await
        .map_err(api_error)?;
    Ok(Json(report))
}

#[derive(Deserialize)]
pub struct Window {
    minutes: Option<u32>,
}

/// The live overview: calls per minute by tier, PHI findings, refusals and outcomes over the
/// window, with the cost report for it.
#[derive(Debug, Serialize)]
pub struct Overview {
    pub since: String,
    pub until: String,
    pub minutes: u32,
    /// Calls in the window's last minute, per second.
    pub requests_per_second: f64,
    /// Calls per minute, oldest first, per tier (`unrouted`: refused before routing).
    pub per_minute: BTreeMap<String, Vec<u64>>,
    /// PHI findings by category.
    pub phi: BTreeMap<String, u64>,
    /// Refused and failed calls by error code.
    pub refusals: BTreeMap<String, u64>,
    pub outcomes: BTreeMap<String, u64>,
    pub costs: CostReport,
}

struct OverviewTally<'a> {
    since: i64,
    until: i64,
    minutes: u32,
    last_minute: u64,
    per_minute: BTreeMap<String, Vec<u64>>,
    phi: BTreeMap<String, u64>,
    refusals: BTreeMap<String, u64>,
    outcomes: BTreeMap<String, u64>,
    costs: CostTally<'a>,
}

impl<'a> OverviewTally<'a> {
    fn new(model: &'a CostModel, since: i64, until: i64, minutes: u32) -> Self {
        OverviewTally {
            since,
            until,
            minutes,
            last_minute: 0,
            per_minute: BTreeMap::new(),
            phi: BTreeMap::new(),
            refusals: BTreeMap::new(),
            outcomes: BTreeMap::new(),
            costs: CostTally::new(model, since, until),
        }
    }

    fn add(&mut self, time_us: i64, event: &AuditEvent) {
        if event.outcome == Outcome::Action {
            return;
        }
        self.costs.add(event);
        let minute = ((time_us - self.since) / 60_000_000).clamp(0, i64::from(self.minutes) - 1);
        let tier = event.tier.clone().unwrap_or_else(|| "unrouted".into());
        let slots = self
            .per_minute
            .entry(tier)
            .or_insert_with(|| vec![0; self.minutes as usize]);
        slots[minute as usize] += 1;
        if time_us >= self.until - 60_000_000 {
            self.last_minute += 1;
        }
        for (label, found) in &event.phi {
            *self.phi.entry(label.clone()).or_default() += u64::from(*found);
        }
        if let Some(code) = &event.error {
            *self.refusals.entry(code.clone()).or_default() += 1;
        }
        let outcome = match serde_json::to_value(event.outcome) {
            Ok(Value::String(name)) => name,
            _ => String::new(),
        };
        *self.outcomes.entry(outcome).or_default() += 1;
    }

    fn finish(self) -> Overview {
        Overview {
            since: rfc3339_micros(self.since),
            until: rfc3339_micros(self.until),
            minutes: self.minutes,
            requests_per_second: self.last_minute as f64 / 60.0,
            per_minute: self.per_minute,
            phi: self.phi,
            refusals: self.refusals,
            outcomes: self.outcomes,
            costs: self.costs.finish(),
        }
    }
}

/// `GET /ui/api/overview?minutes=60` (1 to 1440).
pub async fn overview(
    State(state): State<AppState>,
    Query(window): Query<Window>,
) -> Result<Json<Overview>, ApiError> {
    let minutes = window.minutes.unwrap_or(60);
    if !(1..=1440).contains(&minutes) {
        return Err(api_error(
            WardError::invalid_request("`minutes` must be between 1 and 1440")
                .with_param("minutes"),
        ));
    }
    let until = now_micros();
    let since = until - i64::from(minutes) * 60_000_000;
    let model = state.costs.clone();
    let overview = store_access(&state)?
        .store
        .run(move |store| {
            let mut tally = OverviewTally::new(&model, since, until, minutes);
            store.each_record(Some(since), Some(until), |record| {
                tally.add(record.time_us, &record.event()?);
                Ok::<(), WardError>(())
            })?;
            Ok(tally.finish())
        })
        .await
        .map_err(api_error)?;
    Ok(Json(overview))
}

/// `GET /ui/api/backends`: every backend, its health, models and cost.
pub async fn backends(State(state): State<AppState>) -> Json<Value> {
    let costs: Arc<CostModel> = state.costs.clone();
    let data: Vec<Value> = state
        .router
        .backends()
        .iter()
        .map(|backend| {
            let cost = costs
                .backends
                .iter()
                .find(|priced| priced.name == backend.backend_id())
                .and_then(|priced| priced.cost);
            let (price, monthly) = match cost {
                Some(ward_audit::BackendCost::PerToken(price)) => (
                    json!({"input_per_million": price.input_per_mtok, "output_per_million": price.output_per_mtok}),
                    Value::Null,
                ),
                Some(ward_audit::BackendCost::Monthly { usd }) => (Value::Null, json!(usd)),
                None => (Value::Null, Value::Null),
            };
            json!({
                "name": backend.backend_id(),
                "locality": backend.locality().as_str(),
                "ready": backend.is_ready(),
                "models": backend.loaded_models().iter().map(|card| card.name.as_str()).collect::<Vec<_>>(),
                "in_flight": state.metrics.in_flight_of(backend.backend_id()),
                "price": price,
                "fixed_per_month": monthly,
            })
        })
        .collect();
    Json(json!({"object": "list", "data": data}))
}

/// `GET /ui/api/keys` (admin): every key's metadata, never its hash.
pub async fn keys(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let keys = store_access(&state)?
        .store
        .run(|store| store.keys())
        .await
        .map_err(api_error)?;
    let now = now_micros();
    let data: Vec<Value> = keys
        .iter()
        .map(|key| {
            json!({
                "id": key.id,
                "name": key.name,
                "role": key.role.as_str(),
                "status": key.status(now),
                "created": rfc3339_micros(key.created_us),
                "expires": key.expires_us.map(rfc3339_micros),
                "decrypt": key.can_decrypt,
                "rate_limit_per_minute": key.rate_limit_per_minute,
                "token_budget_per_day": key.token_budget_per_day,
            })
        })
        .collect();
    Ok(Json(json!({"object": "list", "data": data})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        assert_eq!(cookie_key(&headers), None);
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; ward_console="),
        );
        assert_eq!(cookie_key(&headers), None);
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("b=2;ward_console=ward_x_y"),
        );
        assert_eq!(cookie_key(&headers), Some("ward_x_y"));
    }

    #[test]
    fn pages_data_and_assets_are_told_apart() {
        assert!(is_console_page("/ui") && is_console_page("/ui/costs"));
        assert!(!is_console_page("/ui/api/costs") && !is_console_page("/ui/assets/console.js"));
        assert!(!is_console("/uix") && !is_console("/v1/ui"));
    }

    #[test]
    fn the_overview_counts_calls_per_minute_findings_and_refusals() {
        let model = CostModel::default();
        let minute = 60_000_000;
        let mut tally = OverviewTally::new(&model, 0, 3 * minute, 3);
        let answered = AuditEvent {
            tier: Some("phi".into()),
            backend: Some("local".into()),
            phi: [("NAME".to_owned(), 2)].into(),
            status: 200,
            ..AuditEvent::default()
        };
        tally.add(10, &answered);
        tally.add(2 * minute + 5, &answered);
        tally.add(
            2 * minute + 6,
            &AuditEvent {
                outcome: Outcome::Refused,
                error: Some("policy_violation".into()),
                status: 403,
                ..AuditEvent::default()
            },
        );
        tally.add(
            5,
            &AuditEvent {
                outcome: Outcome::Action,
                ..AuditEvent::default()
            },
        );
        let overview = tally.finish();
        assert_eq!(overview.per_minute["phi"], [1, 0, 1]);
        assert_eq!(overview.per_minute["unrouted"], [0, 0, 1]);
        assert_eq!(overview.phi["NAME"], 4);
        assert_eq!(overview.refusals["policy_violation"], 1);
        assert_eq!(
            (overview.outcomes["ok"], overview.outcomes["refused"]),
            (2, 1)
        );
        assert!((overview.requests_per_second - 2.0 / 60.0).abs() < 1e-12);
        assert_eq!(overview.costs.total.queries, 2);
    }
}
