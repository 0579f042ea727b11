//! What an edit leaves owed, over HTTP on SQLite and PostgreSQL (docs/api.md, "Editing an order"; docs/invoices.md):
//! `balance_due` on authorised and captured card orders settled by an authorisation of the balance and its
//! capture (with a further invoice for the difference), `refund_due` settled by a refund, the credit notes for what
//! an edit takes off, and the cash a COD order's courier is to collect.

mod common;

use common::TestApp;
use common::shop::{minor, pay, place, shop};
use serde_json::{Value, json};

fn due(o: &Value, what: &str) -> i64 {
    minor(&o["payment"][what])
}

async fn edit(app: &TestApp, o: &Value, operations: Value) -> Value {
    app.step(o, "edits", Some(json!({ "operations": operations }))).await
}

async fn documents(app: &TestApp, o: &Value) -> Value {
    let path = format!("{}/v1/orders/{}/invoices", app.api, o["id"].as_str().unwrap());
    let response = app.client.get(path).bearer_auth(app.staff()).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn an_authorised_order_made_dearer_owes_a_balance(app: TestApp) {
    shop(&app).await;
    let o = place(&app, &[("A", 2)], "card").await;
    let o = pay(&app, &o, 2100, false).await;
    assert_eq!((due(&o, "balance_due"), due(&o, "refund_due")), (0, 0));
    let o = edit(&app, &o, json!([{"op": "set_quantity", "sku": "A", "quantity": 3}])).await;
    assert_eq!((due(&o, "balance_due"), due(&o, "refund_due")), (1050, 0));
    let wrong = app
        .command(
            &app.staff(),
            o["id"].as_str().unwrap(),
            "payment/authorize",
            o["version"].as_i64().unwrap(),
            "wrong",
            Some(json!({"amount_minor": 3150, "provider_ref": "psp-2"})),
        )
        .await;
    common::assert_problem(wrong, 422, "amount_invalid").await;
    let o = pay(&app, &o, 1050, false).await;
    assert_eq!(due(&o, "balance_due"), 0);
    assert_eq!(minor(&o["payment"]["authorized"]), 3150);
    let o = app
        .step(&o, "payment/capture", Some(json!({"amount_minor": 3150})))
        .await;
    let docs = documents(&app, &o).await;
    assert_eq!(docs["invoices"].as_array().unwrap().len(), 1, "{docs}");
    assert_eq!(docs["invoices"][0]["totals"]["grand_total"]["amount_minor"], 3150);
}

async fn an_authorised_order_made_cheaper_owes_a_refund_until_its_total_is_captured(app: TestApp) {
    shop(&app).await;
    let o = place(&app, &[("A", 2), ("B", 1)], "card").await;
    let o = pay(&app, &o, 4725, false).await;
    let o = edit(&app, &o, json!([{"op": "remove_line", "sku": "B"}])).await;
    assert_eq!((due(&o, "balance_due"), due(&o, "refund_due")), (0, 2625));
    let o = app
        .step(&o, "payment/capture", Some(json!({"amount_minor": 2100})))
        .await;
    assert_eq!((due(&o, "balance_due"), due(&o, "refund_due")), (0, 0));
}

/// Captured and invoiced; made cheaper, then dearer: the edit that takes B off credits B (at its own VAT), the
/// surplus goes back without another document, and the balance captured is invoiced for exactly C.
async fn a_captured_order_edited_both_ways_keeps_its_documents_exact(app: TestApp) {
    shop(&app).await;
    let o = place(&app, &[("A", 2), ("B", 1)], "card").await;
    let o = pay(&app, &o, 4725, true).await;
    let o = edit(&app, &o, json!([{"op": "remove_line", "sku": "B"}])).await;
    assert_eq!((due(&o, "balance_due"), due(&o, "refund_due")), (0, 2625));
    let docs = documents(&app, &o).await;
    assert_eq!(docs["credit_notes"].as_array().unwrap().len(), 1, "{docs}");
    let o = app.step(&o, "refunds", Some(json!({"amount_minor": 2625}))).await;
    assert_eq!((due(&o, "balance_due"), due(&o, "refund_due")), (0, 0));
    assert_eq!(minor(&o["payment"]["captured"]), 4725);
    assert_eq!(minor(&o["payment"]["refunded"]), 2625);

    let o = edit(&app, &o, json!([{"op": "add_line", "sku": "C", "quantity": 2}])).await;
    assert_eq!((due(&o, "balance_due"), due(&o, "refund_due")), (1575, 0));
    let o = pay(&app, &o, 1575, true).await;
    assert_eq!((due(&o, "balance_due"), due(&o, "refund_due")), (0, 0));

    let docs = documents(&app, &o).await;
    let invoices = docs["invoices"].as_array().unwrap();
    let notes = docs["credit_notes"].as_array().unwrap();
    assert_eq!((invoices.len(), notes.len()), (2, 1), "{docs}");
    let (first, further, note) = (&invoices[0], &invoices[1], &notes[0]);
    assert_eq!(first["totals"]["grand_total"]["amount_minor"], 4725);
    // B as invoiced: one unit at 25.00 with 5% VAT.
    assert_eq!(note["references"], first["number"]);
    assert_eq!(note["totals"]["grand_total"]["amount_minor"], 2625);
    assert_eq!(note["totals"]["vat"]["amount_minor"], 125);
    assert_eq!(
        (&note["lines"][0]["sku"], &note["lines"][0]["quantity"]),
        (&json!("B"), &json!(1))
    );
    // The further invoice: two C at 7.50 with 5% VAT, referencing the first.
    assert_eq!(further["references"], first["number"]);
    assert_eq!(further["totals"]["grand_total"]["amount_minor"], 1575);
    assert_eq!(further["totals"]["vat"]["amount_minor"], 75);
    assert_eq!(
        further["lines"],
        json!([{"sku": "C", "name_en": "Item C", "name_ar": "منتج", "quantity": 2,
                "unit_price": {"amount_minor": 750, "currency": "AED"}, "vat_rate_bp": 500,
                "vat": {"amount_minor": 75, "currency": "AED"}, "total": {"amount_minor": 1575, "currency": "AED"}}])
    );
    let invoiced = 4725 - 2625 + 1575;
    assert_eq!(
        invoiced,
        minor(&o["totals"]["grand_total"]),
        "the documents add up to the order"
    );
}

/// Part captured, then an edit lowers the total to what is captured: the edit leaves the order paid in full, and
/// its invoice comes with it.
async fn an_edit_that_leaves_the_order_paid_in_full_issues_its_invoice(app: TestApp) {
    shop(&app).await;
    let o = place(&app, &[("A", 2), ("B", 1)], "card").await;
    let o = pay(&app, &o, 4725, false).await;
    let o = app
        .step(&o, "payment/capture", Some(json!({"amount_minor": 2100})))
        .await;
    assert_eq!(documents(&app, &o).await["invoices"], json!([]));
    let o = edit(&app, &o, json!([{"op": "remove_line", "sku": "B"}])).await;
    assert_eq!((due(&o, "balance_due"), due(&o, "refund_due")), (0, 0));
    let docs = documents(&app, &o).await;
    let invoices = docs["invoices"].as_array().unwrap();
    assert_eq!(invoices.len(), 1, "{docs}");
    assert_eq!(invoices[0]["totals"]["grand_total"]["amount_minor"], 2100);
    assert_eq!(invoices[0]["lines"].as_array().unwrap().len(), 1);
}

/// Invoiced, then made dearer and the balance captured only in part: cancelling refunds everything, and the
/// credit note gives back what was invoiced, not the balance money no invoice charged.
async fn cancelling_with_a_balance_captured_in_part_credits_only_what_was_invoiced(app: TestApp) {
    shop(&app).await;
    let o = place(&app, &[("A", 2), ("B", 1)], "card").await;
    let o = pay(&app, &o, 4725, true).await;
    let o = edit(&app, &o, json!([{"op": "add_line", "sku": "C", "quantity": 2}])).await;
    let o = pay(&app, &o, 1575, false).await;
    let o = app
        .step(&o, "payment/capture", Some(json!({"amount_minor": 1000})))
        .await;
    let o = app.step(&o, "cancel", None).await;
    assert_eq!(minor(&o["payment"]["refunded"]), 5725);
    let docs = documents(&app, &o).await;
    let (invoices, notes) = (
        docs["invoices"].as_array().unwrap(),
        docs["credit_notes"].as_array().unwrap(),
    );
    assert_eq!((invoices.len(), notes.len()), (1, 1), "{docs}");
    assert_eq!(
        notes[0]["totals"], invoices[0]["totals"],
        "credited exactly what was invoiced"
    );
    let skus: Vec<&str> = notes[0]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["sku"].as_str().unwrap())
        .collect();
    assert!(!skus.contains(&"C"), "C was never invoiced: {skus:?}");
}

async fn a_cod_order_collects_its_new_total(app: TestApp) {
    shop(&app).await;
    let o = place(&app, &[("A", 1)], "cod").await;
    assert_eq!(due(&o, "to_collect"), 1050);
    let o = edit(&app, &o, json!([{"op": "set_quantity", "sku": "A", "quantity": 2}])).await;
    assert_eq!(
        (due(&o, "to_collect"), due(&o, "balance_due"), due(&o, "refund_due")),
        (2100, 0, 0)
    );
    let o = app.step(&o, "cancel", None).await;
    assert_eq!(due(&o, "to_collect"), 0, "a cancelled COD order owes no cash");
}

on_both_backends!(
    an_authorised_order_made_dearer_owes_a_balance,
    an_authorised_order_made_cheaper_owes_a_refund_until_its_total_is_captured,
    a_captured_order_edited_both_ways_keeps_its_documents_exact,
    an_edit_that_leaves_the_order_paid_in_full_issues_its_invoice,
    cancelling_with_a_balance_captured_in_part_credits_only_what_was_invoiced,
    a_cod_order_collects_its_new_total,
);
