//! The commands on an existing order, one file each: its request body, how the body becomes a domain `Command`,
//! who may send it, what it answers and which problems it can return, and its documentation. `COMMANDS` lists
//! them; the router, the scope check, the OpenAPI document and the dispatch into the domain are all driven from
//! that one table, so adding a command is one new file and one line here.

mod authorize;
mod cancel;
mod capture;
mod collect;
mod deliver;
mod edit;
mod fail;
mod fields;
mod receive_return;
mod refund;
mod refuse;
mod request_return;
mod ship;
mod void;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{MethodRouter, post};
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa::openapi::{RefOr, Schema};
use uuid::Uuid;

use super::AppState;
use super::error::{ApiError, Code, Missing};
use super::extract::{Auth, IdempotencyKeyHeader, IfMatch, RawBody, fingerprint};
use super::orders::{WRITE_ANY, WRITE_OWN, idempotency, order_response, own_scope, respond};
use super::wire::OrderLimits;
use crate::domain::catalog::Product;
use crate::domain::order::{Command, Order};
use crate::store::{Executed, UpdateOrder};

pub use authorize::AuthorizeRequest;
pub use cancel::CancelRequest;
pub use capture::CaptureRequest;
pub use collect::CollectRequest;
pub use deliver::DeliverRequest;
pub use edit::{EditOperationRequest, EditRequest};
pub use fail::FailRequest;
pub use receive_return::ReceiveRequest;
pub use refund::RefundRequest;
pub use refuse::RefuseRequest;
pub use request_return::ReturnRequest;
pub use ship::ShipmentRequest;
pub use void::VoidRequest;

/// A second id in a command's path, naming a shipment or a return of the order.
#[derive(Clone, Copy, Debug)]
pub struct SubId {
    /// The path parameter, e.g. `shipment_id`.
    pub param: &'static str,
    /// What a malformed or unknown id is reported as.
    pub missing: Missing,
}

/// Everything about a command that is not code: where it lives, who may send it, what it answers.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    /// The domain command it becomes (`Command::name`), and the OpenAPI operationId.
    pub name: &'static str,
    /// The route template, as routed and documented.
    pub path: &'static str,
    pub sub_id: Option<SubId>,
    /// Customers (`orders:write:own`) may send it for their own orders; otherwise staff (`orders:write`) only.
    pub customers_may: bool,
    /// 201 when the command creates a shipment, return or refund; else 200.
    pub success: StatusCode,
    /// Whether an empty (or `null`) body is the same as `{}`: every field of the body is optional.
    pub body_optional: bool,
    /// The problems particular to this command (the ones every command can return are added by `problems`).
    pub problems: &'static [Code],
    pub summary: &'static str,
    pub description: &'static str,
}

impl Spec {
    pub fn scopes(&self) -> &'static [&'static str] {
        if self.customers_may {
            &[WRITE_ANY, WRITE_OWN]
        } else {
            &[WRITE_ANY]
        }
    }

    /// Every problem the command can answer with: the shared ones (authentication, headers, body, idempotency,
    /// the order's existence and version, the server) and its own.
    pub fn problems(&self) -> Vec<Code> {
        let mut own = self.problems.to_vec();
        if let Some(sub) = self.sub_id {
            own.push(ApiError::NotFound(sub.missing).code());
        }
        let shared = vec![
            Code::OrderNotFound,
            Code::IdempotencyKeyMissing,
            Code::IdempotencyKeyInvalid,
            Code::IdempotencyKeyReused,
            Code::RequestInProgress,
            Code::IfMatchRequired,
            Code::IfMatchInvalid,
            Code::VersionConflict,
            Code::MalformedJson,
            Code::DuplicateKey,
            Code::UnreadableBody,
            Code::PayloadTooLarge,
            Code::UnsupportedMediaType,
            Code::ValidationFailed,
        ];
        super::openapi::authenticated(shared, &own)
    }
}

/// What a command's parsing may need besides its body.
#[derive(Clone, Copy, Debug)]
pub struct Context {
    pub limits: OrderLimits,
    /// The shipment or return id from the path, for commands that have one.
    pub sub_id: Option<Uuid>,
}

/// One command: its body type, its spec and its parsing into the domain.
pub trait OrderCommand: DeserializeOwned + ToSchema + Send + 'static {
    const SPEC: Spec;

    /// Checks the fields and builds the domain command.
    fn into_command(self, ctx: Context) -> Result<Command, ApiError>;
}

/// Named schemas, as utoipa collects them.
pub type Schemas = Vec<(String, RefOr<Schema>)>;

/// A row of the command table.
#[derive(Clone, Copy)]
pub struct Entry {
    pub spec: Spec,
    pub route: fn() -> MethodRouter<AppState>,
    /// The request body's schema name and schema, and the schemas it refers to.
    pub schema: fn(&mut Schemas) -> String,
    /// Parses a body into the domain command, as the handler does (for the contract test).
    pub parse: fn(serde_json::Value, Context) -> Result<Command, ApiError>,
}

const fn entry<C: OrderCommand>() -> Entry {
    Entry {
        spec: C::SPEC,
        route: route::<C>,
        schema: schema::<C>,
        parse: parse::<C>,
    }
}

fn route<C: OrderCommand>() -> MethodRouter<AppState> {
    post(handle::<C>)
}

fn schema<C: OrderCommand>(out: &mut Schemas) -> String {
    C::schemas(out);
    let name = C::name().into_owned();
    out.push((name.clone(), C::schema()));
    name
}

fn parse<C: OrderCommand>(body: serde_json::Value, ctx: Context) -> Result<Command, ApiError> {
    let value: C = serde_json::from_value(body).map_err(|e| ApiError::field("/", e.to_string()))?;
    value.into_command(ctx)
}

/// The commands on an order.
pub const COMMANDS: &[Entry] = &[
    entry::<CancelRequest>(),
    entry::<AuthorizeRequest>(),
    entry::<CaptureRequest>(),
    entry::<VoidRequest>(),
    entry::<FailRequest>(),
    entry::<CollectRequest>(),
    entry::<RefuseRequest>(),
    entry::<ShipmentRequest>(),
    entry::<DeliverRequest>(),
    entry::<ReturnRequest>(),
    entry::<ReceiveRequest>(),
    entry::<RefundRequest>(),
    entry::<EditRequest>(),
];

pub fn router() -> Router<AppState> {
    COMMANDS
        .iter()
        .fold(Router::new(), |router, e| router.route(e.spec.path, (e.route)()))
}

/// Every command, in this order: authentication, Idempotency-Key, If-Match and the body's size (extractors), then
/// the scope, the body's media type, syntax and shape, its fields, the path's ids; then `run`.
async fn handle<C: OrderCommand>(
    State(state): State<AppState>,
    auth: Auth,
    Path(params): Path<Vec<(String, String)>>,
    key: IdempotencyKeyHeader,
    IfMatch(version): IfMatch,
    body: RawBody,
) -> Result<Response, ApiError> {
    let spec = C::SPEC;
    let held = auth.require(spec.scopes())?;
    let body = body.json_or_empty::<C>(spec.body_optional)?;
    let path_param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let sub_id = spec
        .sub_id
        .map(|sub| {
            path_param(sub.param)
                .and_then(|raw| Uuid::parse_str(raw).ok())
                .ok_or(ApiError::NotFound(sub.missing))
        })
        .transpose()?;
    let command = body.value.into_command(Context {
        limits: state.limits.order,
        sub_id,
    })?;
    let id = path_param("id")
        .and_then(|raw| Uuid::parse_str(raw).ok())
        .ok_or(ApiError::NotFound(Missing::Order))?;
    let executed = execute(
        &state,
        &auth,
        held,
        spec,
        (id, sub_id),
        key,
        version,
        command,
        &body.canonical,
    )
    .await?;
    Ok(respond(&state, executed))
}

/// A command as another front end (the operations console) submits it: by name, with the body the API would take,
/// the order's version as If-Match and an Idempotency-Key. It runs exactly as `handle` runs it, so the outcome is
/// stored under the same key, principal and fingerprint as a request to the API with that body.
pub struct Submission<'a> {
    pub name: &'a str,
    pub order_id: Uuid,
    pub sub_id: Option<Uuid>,
    pub key: IdempotencyKeyHeader,
    pub version: i64,
    pub body: serde_json::Value,
}

/// Runs a submission through the scope check, the command's parsing and `execute`.
pub async fn submit(state: &AppState, auth: &Auth, s: Submission<'_>) -> Result<Executed, ApiError> {
    let entry = COMMANDS
        .iter()
        .find(|e| e.spec.name == s.name)
        .ok_or(ApiError::NotFound(Missing::Route))?;
    let held = auth.require(entry.spec.scopes())?;
    // The canonical form of a JSON value is its serialisation: serde_json keeps object keys sorted.
    let canonical = serde_json::to_vec(&s.body).map_err(ApiError::internal)?;
    let context = Context {
        limits: state.limits.order,
        sub_id: s.sub_id,
    };
    let command = (entry.parse)(s.body, context)?;
    let ids = (s.order_id, s.sub_id);
    execute(
        state, auth, held, entry.spec, ids, s.key, s.version, command, &canonical,
    )
    .await
}

/// The common end of every command: the owner pin, the fingerprint, the store's transaction, the transition metrics.
#[allow(clippy::too_many_arguments)]
async fn execute(
    state: &AppState,
    auth: &Auth,
    held: &'static str,
    spec: Spec,
    (id, sub_id): (Uuid, Option<Uuid>),
    key: IdempotencyKeyHeader,
    version: i64,
    command: Command,
    canonical: &[u8],
) -> Result<Executed, ApiError> {
    let owner = own_scope(auth, held, WRITE_OWN)?;

    // The fingerprint covers the path with its ids normalised, If-Match and the canonical body.
    let mut path = spec.path.replace("{id}", &id.to_string());
    if let (Some(sub), Some(sub_id)) = (spec.sub_id, sub_id) {
        path = path.replace(&format!("{{{}}}", sub.param), &sub_id.to_string());
    }
    let key = idempotency(state, auth, key, fingerprint("POST", &path, Some(version), canonical));
    let actor = auth.0.sub.clone();
    // An edit prices its added lines from the catalog rows its transaction reads, under the store's rules.
    let catalog = match &command {
        Command::Edit(edit) => edit.added_skus(),
        _ => Vec::new(),
    };
    let policy = state.policy.clone();
    let apply = move |o: &mut Order, products: &[Product]| {
        let mut command = command.clone();
        if let Command::Edit(edit) = &mut command {
            edit.catalog = products.to_vec();
            edit.policy = (*policy).clone();
        }
        o.execute(command, &actor, OffsetDateTime::now_utc())
    };
    let customer_view = owner.is_some();
    let render = |o: &Order| order_response(spec.success, o, customer_view);
    let executed = state
        .store
        .update_order(UpdateOrder {
            idempotency: &key,
            order_id: id,
            expected_version: version,
            owner: owner.as_ref(),
            catalog: &catalog,
            seller: Some(&state.seller),
            apply: &apply,
            render: &render,
            refuse: &super::orders::refusal_response,
        })
        .await?;
    if let Executed::Fresh(_, _, moves) = &executed {
        for m in moves {
            state.metrics.order_transition(m.kind, m.from, m.to);
        }
    }
    Ok(executed)
}
