//! The console's two languages: which one a request is in (the `lang` query parameter, then the `orderly_lang`
//! cookie, then English), and every word of the interface in English and Arabic. Customer-entered text (names,
//! addresses) is never translated; the templates mark it `dir="auto"`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;

/// The cookie that remembers the language chosen with the switch.
pub const LANG_COOKIE: &str = "orderly_lang";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    Ar,
}

impl Lang {
    pub fn parse(raw: &str) -> Option<Lang> {
        match raw {
            "en" => Some(Lang::En),
            "ar" => Some(Lang::Ar),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ar => "ar",
        }
    }

    pub fn dir(self) -> &'static str {
        match self {
            Lang::En => "ltr",
            Lang::Ar => "rtl",
        }
    }

    /// The language the switch offers.
    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Ar,
            Lang::Ar => Lang::En,
        }
    }

    /// Every word of the interface in this language, by key.
    pub fn words(self) -> &'static BTreeMap<&'static str, &'static str> {
        match self {
            Lang::En => &EN,
            Lang::Ar => &AR,
        }
    }

    /// One word; the key itself when it has none (never a panic, and a missing word is visible on the page).
    pub fn word(self, key: &str) -> String {
        self.words()
            .get(key)
            .map(|w| (*w).to_owned())
            .unwrap_or_else(|| key.to_owned())
    }
}

/// The `lang` query parameter, if it names a language.
pub fn from_query(query: Option<&str>) -> Option<Lang> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "lang")
        .and_then(|(_, v)| Lang::parse(v))
}

/// The language cookie, if set to a language.
pub fn from_cookie(headers: &HeaderMap) -> Option<Lang> {
    super::session::cookie(headers, LANG_COOKIE).and_then(|v| Lang::parse(&v))
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(from_query(parts.uri.query())
            .or_else(|| from_cookie(&parts.headers))
            .unwrap_or(Lang::En))
    }
}

/// The `Set-Cookie` value that remembers `lang` for a year.
pub fn lang_cookie(lang: Lang) -> String {
    format!(
        "{LANG_COOKIE}={}; Path=/console; Max-Age=31536000; SameSite=Strict; HttpOnly",
        lang.code()
    )
}

/// Builds both tables from one list, so a key cannot exist in one language only.
macro_rules! words {
    ($($key:literal => $en:literal, $ar:literal;)*) => {
        static EN: LazyLock<BTreeMap<&'static str, &'static str>> = LazyLock::new(|| BTreeMap::from([$(($key, $en)),*]));
        static AR: LazyLock<BTreeMap<&'static str, &'static str>> = LazyLock::new(|| BTreeMap::from([$(($key, $ar)),*]));
    };
}

words! {
    "console" => "Orderly console", "لوحة تشغيل أوردرلي";
    "language" => "English", "العربية";
    "orders" => "Orders", "الطلبات";
    "products" => "Products", "المنتجات";
    "sign_in" => "Sign in", "تسجيل الدخول";
    "sign_out" => "Sign out", "تسجيل الخروج";
    "sign_in_staff" => "Sign in as staff (development)", "الدخول كموظف (بيئة التطوير)";
    "token" => "Access token", "رمز الدخول";
    "token_help" => "Paste a staff access token from the identity provider.", "الصق رمز دخول موظف من مزوّد الهوية.";
    "signed_in_as" => "Signed in as", "مسجّل الدخول باسم";
    "read_only" => "Your access is read-only: no actions are offered.", "صلاحيتك للقراءة فقط: لا تُعرض أي إجراءات.";
    "search" => "Search", "بحث";
    "search_help" => "Name, phone, order number or customer id", "الاسم أو الهاتف أو رقم الطلب أو رقم العميل";
    "status" => "Status", "الحالة";
    "any" => "Any", "الكل";
    "from" => "From", "من";
    "to" => "To", "إلى";
    "filter" => "Filter", "تصفية";
    "number" => "Number", "الرقم";
    "date" => "Date", "التاريخ";
    "customer" => "Customer", "العميل";
    "ship_to" => "Ship to", "الشحن إلى";
    "total" => "Total", "الإجمالي";
    "order" => "Order", "الطلب";
    "payment" => "Payment", "الدفع";
    "fulfilment" => "Fulfilment", "التنفيذ";
    "next_page" => "Next page", "الصفحة التالية";
    "first_page" => "First page", "الصفحة الأولى";
    "no_orders" => "No orders match.", "لا توجد طلبات مطابقة.";
    "lines" => "Lines", "البنود";
    "sku" => "SKU", "رمز المنتج";
    "product" => "Product", "المنتج";
    "qty" => "Qty", "الكمية";
    "shipped" => "Shipped", "المشحون";
    "returned" => "Returned", "المرتجع";
    "refunded" => "Refunded", "المسترد";
    "unit_price" => "Unit price", "سعر الوحدة";
    "subtotal" => "Subtotal", "المجموع الفرعي";
    "tax" => "VAT", "ضريبة القيمة المضافة";
    "shipping" => "Shipping", "الشحن";
    "grand_total" => "Grand total", "الإجمالي الكلي";
    "method" => "Method", "الطريقة";
    "authorized" => "Authorised", "المفوَّض";
    "paid" => "Paid", "المدفوع";
    "shipments" => "Shipments", "الشحنات";
    "returns" => "Returns", "المرتجعات";
    "refunds" => "Refunds", "المبالغ المستردة";
    "timeline" => "History", "السجل";
    "when" => "When", "متى";
    "who" => "Who", "من قام";
    "what" => "What", "ماذا";
    "actions" => "Actions", "الإجراءات";
    "none" => "None", "لا يوجد";
    "delivered_at" => "Delivered", "تاريخ التسليم";
    "received_at" => "Received", "تاريخ الاستلام";
    "not_yet" => "Not yet", "ليس بعد";
    "cancel" => "Cancel the order", "إلغاء الطلب";
    "authorize" => "Authorise the payment", "تفويض الدفع";
    "capture" => "Capture the payment", "تحصيل الدفع";
    "void" => "Void the authorisation", "إبطال التفويض";
    "fail" => "Mark the payment failed", "تسجيل فشل الدفع";
    "collect_cod" => "Collect cash on delivery", "تحصيل الدفع عند الاستلام";
    "refuse_cod" => "Refused at the door", "رُفض عند الباب";
    "ship" => "Ship", "شحن";
    "deliver" => "Mark delivered", "تأكيد التسليم";
    "request_return" => "Open a return", "فتح مرتجع";
    "receive_return" => "Receive the return", "استلام المرتجع";
    "refund" => "Refund", "استرداد";
    "edit" => "Change the order", "تعديل الطلب";
    "edit_help" => "Set a line to 0 to take it off. Lines keep their price; a product added is priced now. The address is changed through the API.", "اجعل الكمية 0 لحذف البند. تحتفظ البنود بسعرها، ويُسعَّر المنتج المضاف بسعره الحالي. يُغيَّر العنوان عبر واجهة البرمجة.";
    "add_sku" => "Add a product (SKU)", "إضافة منتج (رمز المنتج)";
    "add_qty" => "Units of it", "عدد وحداته";
    "balance_due" => "Balance due", "المبلغ المستحق";
    "refund_due" => "Refund due", "المبلغ الواجب رده";
    "to_collect" => "Cash to collect", "النقد المطلوب تحصيله";
    "carrier" => "Carrier", "شركة الشحن";
    "tracking_number" => "Tracking number", "رقم التتبع";
    "amount" => "Amount", "المبلغ";
    "reason" => "Reason", "السبب";
    "provider_ref" => "Payment provider reference", "مرجع مزوّد الدفع";
    "courier_ref" => "Courier reference", "مرجع المندوب";
    "restock" => "Put the units back in stock", "إعادة الوحدات إلى المخزون";
    "units" => "Units", "الوحدات";
    "refund_help" => "Give an amount, or units per line; with neither, everything still refundable is refunded.", "أدخل مبلغًا أو عدد وحدات لكل بند؛ وبدونهما يُسترد كل ما يمكن استرداده.";
    "refundable" => "Still refundable", "المتبقي للاسترداد";
    "conflict" => "This order changed since you opened it. Nothing was applied.", "تغيّر هذا الطلب منذ أن فتحته. لم يُطبَّق أي شيء.";
    "reload" => "Reload the order", "إعادة تحميل الطلب";
    "done" => "Done:", "تم:";
    "problem" => "Not done:", "لم يتم:";
    "forbidden" => "You may not do this.", "غير مسموح لك بهذا.";
    "staff_only" => "This console is for staff, and this token does not allow it.", "هذه اللوحة للموظفين فقط، وهذا الرمز لا يسمح بالدخول.";
    "bad_form" => "This form has expired or was not sent from the console. Reload the page and try again.", "انتهت صلاحية هذا النموذج أو لم يُرسل من اللوحة. أعد تحميل الصفحة وحاول مرة أخرى.";
    "not_found" => "Not found.", "غير موجود.";
    "too_large" => "What was sent is too large.", "ما أُرسل أكبر من المسموح.";
    "not_accepted" => "This request was not accepted. Go back, check the form and try again.", "لم يُقبل هذا الطلب. ارجع وراجع النموذج ثم حاول مرة أخرى.";
    "back" => "Back", "رجوع";
    "name_en" => "Name (English)", "الاسم (بالإنجليزية)";
    "name_ar" => "Name (Arabic)", "الاسم (بالعربية)";
    "prices" => "Prices", "الأسعار";
    "price_help" => "One price per currency; leave a currency empty for none.", "سعر واحد لكل عملة؛ اترك العملة فارغة إن لم يكن لها سعر.";
    "active" => "Active", "نشط";
    "tax_class" => "Tax class", "فئة الضريبة";
    "save" => "Save", "حفظ";
    "on_hand" => "On hand", "المتوفر";
    "reserved" => "Reserved", "المحجوز";
    "available" => "Available", "المتاح";
    "set_stock" => "Set the stock", "تحديث المخزون";
    "stock" => "Stock", "المخزون";
    "edit" => "Edit", "تعديل";
    "saved" => "Saved.", "تم الحفظ.";
    "yes" => "Yes", "نعم";
    "no" => "No", "لا";
    "error" => "Something went wrong on our side. Try again in a moment.", "حدث خطأ من جهتنا. حاول مرة أخرى بعد قليل.";
    "open" => "open", "مفتوح";
    "confirmed" => "confirmed", "مؤكد";
    "completed" => "completed", "مكتمل";
    "cancelled" => "cancelled", "ملغى";
    "pending" => "pending", "قيد الانتظار";
    "authorized_status" => "authorised", "مفوَّض";
    "captured" => "captured", "محصَّل";
    "partially_refunded" => "partially refunded", "مسترد جزئيًا";
    "refunded_status" => "refunded", "مسترد";
    "failed" => "failed", "فشل";
    "voided" => "voided", "مُبطَل";
    "cod_pending" => "cash on delivery", "الدفع عند الاستلام";
    "cod_collected" => "cash collected", "تم تحصيل النقد";
    "cod_refused" => "refused", "مرفوض";
    "cod_cancelled" => "cancelled, no cash due", "ملغى، لا نقد مستحق";
    "unfulfilled" => "unfulfilled", "غير منفَّذ";
    "partially_shipped" => "partially shipped", "مشحون جزئيًا";
    "shipped_status" => "shipped", "مشحون";
    "delivered" => "delivered", "تم التسليم";
    "partially_returned" => "partially returned", "مرتجع جزئيًا";
    "returned_status" => "returned", "مرتجع";
    "card" => "card", "بطاقة";
    "cod" => "cash on delivery", "الدفع عند الاستلام";
}

/// The word for a status, where a status and a column heading share a name.
pub fn status_key(status: &str) -> &str {
    match status {
        "authorized" => "authorized_status",
        "refunded" => "refunded_status",
        "shipped" => "shipped_status",
        "returned" => "returned_status",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `base.t.<word>` a template uses is a word of both languages, and an Arabic word is Arabic: a missing
    /// one would render as nothing (minijinja prints an undefined attribute as empty).
    #[test]
    fn every_word_the_templates_use_exists_in_both_languages() {
        let mut used = std::collections::BTreeSet::new();
        for (name, source) in super::super::templates::sources() {
            for (i, _) in source.match_indices("base.t.") {
                let word: String = source[i + "base.t.".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                assert!(!word.is_empty(), "{name}: base.t. without a word");
                used.insert(word);
            }
        }
        assert!(used.len() > 50, "the templates use {} words", used.len());
        for word in &used {
            for lang in [Lang::En, Lang::Ar] {
                let text = lang
                    .words()
                    .get(word.as_str())
                    .unwrap_or_else(|| panic!("{word} has no {lang:?} word"));
                assert!(!text.trim().is_empty(), "{word} is empty in {lang:?}");
            }
            let ar = Lang::Ar.word(word);
            assert!(
                ar.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)),
                "{word}: the Arabic word has no Arabic letter: {ar}"
            );
        }
    }

    #[test]
    fn the_query_parameter_names_the_language() {
        assert_eq!(from_query(Some("q=x&lang=ar")), Some(Lang::Ar));
        assert_eq!(from_query(Some("lang=fr")), None);
        assert_eq!(from_query(None), None);
        assert_eq!(Lang::Ar.dir(), "rtl");
    }
}
