//! The OpenAPI 3.1 document: a contract clients can be generated from, checked by schemathesis in the test
//! command. `docs/openapi.json` is a checked-in copy that a test keeps equal to this.
//!
//! It is built from two sources. The wire types give the schemas (with the constraints the server enforces, see
//! `wire::schema`) and the handlers outside the command table give their request and success bodies through
//! `#[utoipa::path]`. Everything else comes from `operations()`: the command table's paths, and for every
//! operation its security scopes, every problem it can answer with (grouped by status, each code listed), its
//! headers (`Idempotency-Key`, `If-Match`, `ETag`, `Location`, `Idempotent-Replayed`) and the links that let a
//! client (or schemathesis's stateful phase) walk an order's life.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::Router;
use axum::routing::get;
use serde_json::{Map, Value, json};
use utoipa::OpenApi;

use super::AppState;
use super::commands::{COMMANDS, Entry};
use super::error::Code;

mod operations;

pub(crate) use operations::authenticated;
pub use operations::{Operation, operations};

/// The handlers outside the command table, with their bodies and parameters.
#[derive(OpenApi)]
#[openapi(
    info(title = "Orderly", description = "Orders API: exact Gulf money, stock reservation, idempotent commands."),
    paths(
        super::orders::create_order,
        super::orders::get_order,
        super::orders::list_orders,
        super::export::export_orders,
        super::events::events,
        super::catalog::put_product,
        super::catalog::get_product,
        super::catalog::put_stock,
        super::catalog::get_stock,
        super::audit::audit_log,
        super::cod::post_remittance,
        super::cod::get_remittance,
        super::cod::outstanding,
        super::cod::returns,
        super::invoices::order_invoices,
        super::invoices::get_invoice,
    ),
    components(schemas(super::error::Problem, super::wire::OrderView)),
    tags(
        (name = "orders", description = "Place, read and list orders"),
        (name = "lifecycle", description = "Payments, cash on delivery, shipments, returns and refunds"),
        (name = "catalog", description = "Products and stock"),
        (name = "audit", description = "Who changed the catalog and stock, hash-chained"),
        (name = "cod", description = "Cash on delivery settlement with couriers, for finance"),
        (name = "invoices", description = "Tax invoices and credit notes, immutable and gap-free")
    )
)]
struct Handlers;

/// `Idempotency-Key`: 1 to 255 visible ASCII characters, optionally as a quoted structured-field string.
pub const IDEMPOTENCY_KEY_PATTERN: &str = r#"^(?:[!-~]{1,255}|"[!-~]{1,255}")$"#;
/// `If-Match`: one strong ETag of an order version; the quotes may be left out.
pub const IF_MATCH_PATTERN: &str = r#"^(?:"[0-9]{1,18}"|[0-9]{1,18})$"#;

fn problem_responses(problems: &[Code]) -> Map<String, Value> {
    let mut by_status: BTreeMap<u16, Vec<&'static str>> = BTreeMap::new();
    for code in problems {
        by_status.entry(code.status().as_u16()).or_default().push(code.as_str());
    }
    by_status
        .into_iter()
        .map(|(status, codes)| {
            let description = codes.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ");
            let mut response = json!({
                "description": description,
                "content": {"application/problem+json": {"schema": {
                    "allOf": [{"$ref": "#/components/schemas/Problem"}],
                    "properties": {"code": {"enum": codes}, "status": {"const": status}},
                }}},
            });
            if status == 401 {
                response["headers"] = json!({"WWW-Authenticate": {
                    "description": "`Bearer`", "schema": {"type": "string"}}});
            }
            if status == 503 || status == 429 {
                response["headers"] = json!({"Retry-After": {
                    "description": "Seconds to wait before retrying", "schema": {"type": "integer"}}});
            }
            (status.to_string(), response)
        })
        .collect()
}

fn header_params(op: &Operation) -> Vec<Value> {
    let mut params = Vec::new();
    if op.idempotent {
        params.push(json!({
            "name": "Idempotency-Key", "in": "header", "required": true,
            "description": "Unique per intended change; a retry sends the same key and gets the same answer.",
            "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
        }));
    }
    if op.if_match {
        params.push(json!({
            "name": "If-Match", "in": "header", "required": true,
            "description": "The ETag of the order as last read, e.g. \"3\".",
            "schema": {"type": "string", "pattern": IF_MATCH_PATTERN},
        }));
    }
    params
}

fn uuid_param(name: &str, what: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": what,
           "schema": {"type": "string", "format": "uuid"}})
}

/// The operation object of a table command.
fn command_operation(entry: &Entry, schemas: &mut Map<String, Value>) -> Value {
    let spec = entry.spec;
    let mut found = Vec::new();
    let body = (entry.schema)(&mut found);
    for (name, schema) in found {
        schemas.insert(name, serde_json::to_value(schema).unwrap_or(Value::Null));
    }
    let mut params = vec![uuid_param("id", "Order id")];
    if let Some(sub) = spec.sub_id {
        params.push(uuid_param(sub.param, "Id of the shipment or return, from the order"));
    }
    let mut description = spec.description.to_owned();
    if spec.body_optional {
        description.push_str(" The body may be left empty.");
    }
    json!({
        "tags": ["lifecycle"],
        "summary": spec.summary,
        "description": description,
        "operationId": spec.name,
        "parameters": params,
        "requestBody": {
            "required": !spec.body_optional,
            "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{body}")}}},
        },
        "responses": {},
    })
}

/// Links from a response holding an order to reading it and to every command on it.
fn order_links() -> Value {
    let from_body = json!({"path.id": "$response.body#/id"});
    let mut links = Map::new();
    links.insert(
        "get_order".into(),
        json!({"operationId": "get_order", "parameters": from_body}),
    );
    links.insert(
        "order_events".into(),
        json!({"operationId": "order_events", "parameters": from_body}),
    );
    for e in COMMANDS {
        let mut parameters = json!({
            "path.id": "$response.body#/id",
            "header.If-Match": "$response.header.ETag",
        });
        if let Some(sub) = e.spec.sub_id {
            let list = if sub.param == "shipment_id" {
                "shipments"
            } else {
                "returns"
            };
            parameters[format!("path.{}", sub.param)] = json!(format!("$response.body#/{list}/0/id"));
        }
        links.insert(
            e.spec.name.into(),
            json!({"operationId": e.spec.name, "parameters": parameters}),
        );
    }
    Value::Object(links)
}

/// The constraints of path and query parameters that `#[utoipa::path]` cannot state, by parameter name.
fn constrain_parameters(doc: &mut Value) {
    use super::wire::schema::{CUSTOMER_ID_PATTERN, SKU_PATTERN};
    let schemas = json!({
        "sku": {"type": "string", "pattern": SKU_PATTERN},
        "customer_id": {"type": "string", "pattern": CUSTOMER_ID_PATTERN},
        "status": {"type": "string", "enum": ["open", "confirmed", "completed", "cancelled"]},
        "number": {"type": "string"},
        "created_from": {"type": "string", "format": "date-time"},
        "created_to": {"type": "string", "format": "date-time"},
        "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
        "cursor": {"type": "string", "pattern": super::orders::CURSOR_PATTERN},
        "entity": {"type": "string", "pattern": super::audit::ENTITY_PATTERN},
        "from": {"type": "string", "format": "date-time"},
        "to": {"type": "string", "format": "date-time"},
        "as_of": {"type": "string", "format": "date-time"},
        "courier": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": super::wire::schema::TEXT_PATTERN},
    });
    // Parameters whose constraints differ by path: the audit log's cursor is a row number.
    let audit_cursor = json!({"type": "string", "pattern": super::audit::CURSOR_PATTERN});
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else { continue };
        for operation in item.values_mut() {
            let Some(params) = operation["parameters"].as_array_mut() else {
                continue;
            };
            for param in params {
                let name = param["name"].as_str().unwrap_or("").to_owned();
                if path == "/v1/audit" && name == "cursor" {
                    param["schema"] = audit_cursor.clone();
                } else if param["in"] != "header" && schemas[&name].is_object() {
                    param["schema"] = schemas[&name].clone();
                }
            }
        }
    }
}

/// From a product or its stock, to the other reads and writes of the same SKU.
fn catalog_links() -> Value {
    let sku = json!({"path.sku": "$request.path.sku"});
    json!({
        "get_product": {"operationId": "get_product", "parameters": sku},
        "get_stock": {"operationId": "get_stock", "parameters": sku},
        "put_stock": {"operationId": "put_stock", "parameters": sku},
    })
}

fn success_response(op: &Operation, existing: Option<&Value>) -> Value {
    let order = json!({"$ref": "#/components/schemas/OrderView"});
    let mut response = match existing {
        Some(r) => r.clone(),
        None => json!({"description": "The order after the command",
                       "content": {"application/json": {"schema": order}}}),
    };
    let returns_order = op.idempotent || op.operation_id == "get_order";
    if returns_order {
        let mut headers = json!({
            "ETag": {"description": "The order's version, for If-Match", "schema": {"type": "string"}},
        });
        if op.idempotent {
            headers["Location"] = json!({"description": "The order", "schema": {"type": "string"}});
            headers["Idempotent-Replayed"] = json!({
                "description": "`true` when this is the stored answer to an earlier request with the same key",
                "schema": {"type": "string", "enum": ["true"]}});
        }
        response["headers"] = headers;
        response["links"] = order_links();
    }
    if op.operation_id == "create_order" {
        response["description"] = json!("Order placed; stock reserved");
    }
    response
}

/// A remittance line names its order by `order_number` or by `tracking_number`, exactly one of them.
fn cod_schemas(schemas: &mut Map<String, Value>) {
    if let Some(line) = schemas.get_mut("RemittanceLineRequest") {
        line["oneOf"] = json!([
            {"required": ["order_number"], "properties": {"order_number": {"type": "string"}}, "not": {"required": ["tracking_number"]}},
            {"required": ["tracking_number"], "properties": {"tracking_number": {"type": "string"}}, "not": {"required": ["order_number"]}},
        ]);
        for key in ["order_number", "tracking_number"] {
            line["properties"][key] = json!({"type": "string", "minLength": 1, "maxLength": 100,
                "pattern": super::wire::schema::TEXT_PATTERN});
        }
    }
}

/// The document as a JSON value.
pub fn document_value() -> Value {
    let mut doc = serde_json::to_value(Handlers::openapi()).unwrap_or(Value::Null);
    let mut schemas = doc["components"]["schemas"].as_object().cloned().unwrap_or_default();
    for op in operations() {
        let mut operation = match op.command {
            Some(entry) => command_operation(&entry, &mut schemas),
            None => doc["paths"][op.path][op.method].take(),
        };
        let existing = operation["responses"].as_object().cloned().unwrap_or_default();
        let mut responses = Map::new();
        for status in &op.success {
            let key = status.as_u16().to_string();
            responses.insert(key.clone(), success_response(&op, existing.get(&key)));
        }
        responses.extend(problem_responses(&op.problems));
        operation["responses"] = Value::Object(responses);
        operation["operationId"] = json!(op.operation_id);
        operation["security"] = json!([{"bearer": op.scopes}]);
        let params = operation["parameters"].as_array().cloned().unwrap_or_default();
        let mut params: Vec<Value> = params.into_iter().filter(|p| p["in"] != "header").collect();
        params.extend(header_params(&op));
        operation["parameters"] = Value::Array(params);
        doc["paths"][op.path][op.method] = operation;
    }
    // Request bodies refuse unknown fields (`deny_unknown_fields`).
    for (name, schema) in schemas.iter_mut() {
        if name.ends_with("Request") && schema["type"] == "object" {
            schema["additionalProperties"] = json!(false);
        }
    }
    cod_schemas(&mut schemas);
    doc["components"]["schemas"] = Value::Object(schemas);
    constrain_parameters(&mut doc);
    doc["paths"]["/v1/cod/remittances"]["post"]["responses"]["201"]["headers"] = json!({
        "Location": {"description": "The remittance", "schema": {"type": "string"}}});
    for method in ["get", "put"] {
        for path in ["/v1/products/{sku}", "/v1/stock/{sku}"] {
            let success = &mut doc["paths"][path][method]["responses"];
            for status in ["200", "201"] {
                if success[status].is_object() {
                    success[status]["links"] = catalog_links();
                }
            }
        }
    }
    doc["components"]["securitySchemes"] = json!({
        "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                   "description": "JWTs with `sub` and space-separated `scope`: RS256, ES256 or EdDSA with a key of the identity provider's JWKS chosen by `kid` (HS256 in development); see docs/api.md"}});
    doc
}

/// The document as pretty JSON, exactly as served and checked in.
pub fn document() -> &'static str {
    static DOCUMENT: LazyLock<String> =
        LazyLock::new(|| serde_json::to_string_pretty(&document_value()).unwrap_or_default());
    &DOCUMENT
}

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/openapi.json",
        get(|| async { ([("content-type", "application/json")], document()) }),
    )
}
