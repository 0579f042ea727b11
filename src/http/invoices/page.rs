//! The printable page of a tax document: English beside Arabic (`dir="rtl"`), the ZATCA QR code drawn as an SVG
//! image (a `data:` URI), no script, and a Content-Security-Policy that allows none.

use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use qrcode::QrCode;
use qrcode::render::svg;

use crate::domain::invoice::{DocumentKind, TaxDocument};

/// Like the console's: no script, nothing from elsewhere, never in a frame; the QR image is a `data:` URI.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'none'; style-src 'unsafe-inline'; \
     img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; object-src 'none'";

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The QR code of `payload` as an `<img>` with an SVG `data:` URI; `None` if it cannot be encoded.
fn qr_image(payload: &str) -> Option<String> {
    let code = QrCode::new(payload.as_bytes()).ok()?;
    let svg = code.render::<svg::Color<'_>>().min_dimensions(160, 160).build();
    Some(format!(
        r#"<img class="qr" alt="ZATCA QR" width="160" height="160" src="data:image/svg+xml;base64,{}">"#,
        STANDARD.encode(svg)
    ))
}

fn titles(kind: DocumentKind) -> (&'static str, &'static str) {
    match kind {
        DocumentKind::Invoice => ("Tax invoice", "فاتورة ضريبية"),
        DocumentKind::CreditNote => ("Credit note", "إشعار دائن"),
    }
}

fn rows(doc: &TaxDocument) -> String {
    doc.lines
        .iter()
        .map(|l| {
            format!(
                "<tr><td>{}</td><td>{}</td><td dir=\"rtl\" lang=\"ar\">{}</td><td>{}</td><td>{}</td><td>{}</td>\
                 <td>{}</td><td>{}</td></tr>",
                escape(&l.sku),
                escape(&l.name_en),
                escape(&l.name_ar),
                l.quantity,
                l.unit_price.decimal(),
                format_args!("{}.{:02}%", l.vat_rate_bp / 100, l.vat_rate_bp % 100),
                l.vat.decimal(),
                l.total.decimal(),
            )
        })
        .collect()
}

fn body(doc: &TaxDocument) -> String {
    let (en, ar) = titles(doc.kind);
    let currency = doc.currency.code();
    let reference = doc
        .references
        .as_deref()
        .map_or(String::new(), |r| format!("<p>Invoice / الفاتورة: {}</p>", escape(r)));
    let qr = doc.zatca_qr.as_deref().and_then(qr_image).unwrap_or_default();
    let t = &doc.totals;
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{en} {number}</title>
<style>body{{font-family:sans-serif;margin:2em}}.sides{{display:flex;gap:2em;justify-content:space-between}}
.sides>section{{flex:1}}table{{border-collapse:collapse;width:100%;margin-top:1em}}td,th{{border:1px solid #999;padding:4px}}
@media print{{body{{margin:0}}}}</style></head>
<body>
<div class="sides">
<section lang="en" dir="ltr"><h1>{en}</h1>
<p>Number: {number}<br>Issued: {issued}<br>Order: {order}</p>
<p>Seller: {seller}<br>VAT number: {vat_number}</p>
<p>Buyer: {buyer} ({country})</p></section>
<section lang="ar" dir="rtl"><h1>{ar}</h1>
<p>الرقم: {number}<br>تاريخ الإصدار: {issued}<br>الطلب: {order}</p>
<p>البائع: {seller}<br>الرقم الضريبي: {vat_number}</p>
<p>المشتري: {buyer} ({country})</p></section>
</div>
{reference}
<table><thead><tr><th>SKU</th><th>Item</th><th dir="rtl" lang="ar">الصنف</th><th>Qty / الكمية</th>
<th>Unit price / سعر الوحدة</th><th>VAT rate / نسبة الضريبة</th><th>VAT / الضريبة</th><th>Total / الإجمالي</th></tr></thead>
<tbody>{rows}</tbody></table>
<table><tbody>
<tr><th>Subtotal</th><td>{subtotal} {currency}</td><th dir="rtl" lang="ar">المجموع قبل الضريبة</th></tr>
<tr><th>VAT</th><td>{vat} {currency}</td><th dir="rtl" lang="ar">ضريبة القيمة المضافة</th></tr>
<tr><th>Total</th><td>{grand} {currency}</td><th dir="rtl" lang="ar">الإجمالي شامل الضريبة</th></tr>
</tbody></table>
{qr}
</body></html>
"#,
        number = escape(&doc.number),
        issued = crate::domain::invoice::zatca::timestamp(doc.issued_at),
        order = escape(&doc.order_number),
        seller = escape(&doc.seller.name),
        vat_number = escape(&doc.seller.vat_number),
        buyer = escape(&doc.buyer.name),
        country = escape(&doc.buyer.country),
        rows = rows(doc),
        subtotal = t.subtotal.decimal(),
        vat = t.vat.decimal(),
        grand = t.grand_total.decimal(),
    )
}

pub fn render(doc: &TaxDocument) -> Response {
    let mut response = Html(body(doc)).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        ("content-security-policy", CONTENT_SECURITY_POLICY),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("x-content-type-options", "nosniff"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
