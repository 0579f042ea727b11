#!/usr/bin/env python3
"""Test exports of the legacy order system, for `orderly import legacy`.

    python3 scripts/legacy_export.py --out DIR [--orders N] [--seed S] [--encoding cp1256|utf-8]
                                     [--faults | --no-faults] [--newer]
    python3 scripts/legacy_export.py --verify DIR [--encoding cp1256|utf-8]
    python3 scripts/legacy_export.py --self-check

Writes DIR/ORDERS.csv, ORDER_ITEMS.csv, PAYMENTS.csv, PRODUCTS.csv in the format of ../shared/legacy-export.md,
and DIR/expected.json: what the importer must report for that export, computed here from the generator's own
model (integers, the intended statuses and the injected faults) with the rules of docs/migration.md, written
independently of the Rust importer. The checksum is the canonical form of docs/migration.md "The checksum".

The output is a function of (seed, orders, encoding, faults, newer) only. `--newer` generates the same base
export and evolves it as a later export (S->D, D->X, P->S, new orders); expected.json then has "changes".

`--verify DIR` is a second, separate implementation of the contract on the file side: it parses the four CSV
files as an importer would (RFC 4180, the encoding, nulls, amounts, dates, phones, countries, faults) and
recomputes every count of DIR/expected.json (and, when present, every checksum and orders_detail entry); it
exits 1 with the differences when they disagree. It also checks that every rejected order has exactly one
reason, even when amounts and quantities are parsed leniently, so the expected counts are unambiguous.

`--self-check` generates a few exports in a temporary folder (default, utf-8, --newer, --no-faults), verifies
them, checks determinism and that a --newer export keeps its base.

For more than 100000 orders expected.json holds only the counts, totals and stock (no orders_detail, no
checksums) and rows are streamed to the files, so memory stays small. Python 3.11, standard library only.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
import unicodedata
from datetime import datetime, timedelta, timezone
from fractions import Fraction

# --------------------------------------------------------------------------------------------- the contract

ORDER_COLS = ["ORDER_ID", "ORDER_NO", "STORE", "CUST_ID", "CUST_NAME", "CUST_PHONE", "CURRENCY", "ORDER_DATE",
              "STATUS", "PAY_METHOD", "SUBTOTAL", "TAX", "SHIPPING", "TOTAL", "SHIP_NAME", "SHIP_ADDR",
              "SHIP_CITY", "SHIP_COUNTRY"]
ITEM_COLS = ["ITEM_ID", "ORDER_ID", "SKU", "QTY", "UNIT_PRICE", "LINE_TAX", "LINE_TOTAL"]
PAY_COLS = ["PAY_ID", "ORDER_ID", "TYPE", "AMOUNT", "PAY_DATE", "REF"]
PROD_COLS = ["SKU", "NAME_EN", "NAME_AR", "CURRENCY", "PRICE", "ON_HAND"]
ORDERS_CSV, ITEMS_CSV, PAYMENTS_CSV, PRODUCTS_CSV = "ORDERS.csv", "ORDER_ITEMS.csv", "PAYMENTS.csv", "PRODUCTS.csv"

EXPONENT = {"AED": 2, "SAR": 2, "QAR": 2, "EGP": 2, "KWD": 3, "BHD": 3, "OMR": 3}
STORE_OFFSET_H = {"DXB": 4, "RUH": 3, "JED": 3, "KWI": 3}      # no DST in any of them since 1970
STORE_ZONE = {"DXB": "Asia/Dubai", "RUH": "Asia/Riyadh", "JED": "Asia/Riyadh", "KWI": "Asia/Kuwait"}
CALLING = {"AE": "971", "SA": "966", "KW": "965", "BH": "973", "OM": "968", "QA": "974", "EG": "20"}
COUNTRY_SPELLINGS = [
    ("AE", "AE"), ("U.A.E", "AE"), ("UAE", "AE"), ("United Arab Emirates", "AE"),
    ("KSA", "SA"), ("SA", "SA"), ("Saudi Arabia", "SA"),
    ("KW", "KW"), ("Kuwait", "KW"), ("BH", "BH"), ("Bahrain", "BH"), ("OM", "OM"), ("Oman", "OM"),
    ("QA", "QA"), ("Qatar", "QA"), ("EG", "EG"), ("Egypt", "EG"),
]
COUNTRY_BY_UPPER = {s.upper(): iso for s, iso in COUNTRY_SPELLINGS}
SPELLINGS_OF = {}
for _s, _iso in COUNTRY_SPELLINGS:
    SPELLINGS_OF.setdefault(_iso, []).append(_s)

LETTERS = "NAPSDCRX"
PAY_METHODS = ("CC", "COD")
PAY_TYPES = ("AUTH", "CAPT", "RFND", "COD_COLL", "COD_REF")
NULLABLE = {("ORDERS", "CUST_PHONE"), ("ORDERS", "SHIP_ADDR"), ("PAYMENTS", "REF")}
ORDER_STATUS = {"N": "open", "A": "open", "P": "confirmed", "S": "confirmed", "D": "completed",
                "C": "cancelled", "R": "completed", "X": "completed"}
FULFILMENT = {"N": "unfulfilled", "A": "unfulfilled", "P": "unfulfilled", "S": "shipped", "D": "delivered",
              "C": "unfulfilled", "R": "returned", "X": "delivered"}
ORDERLY_STATUSES = ("open", "confirmed", "completed", "cancelled")
REASONS = ("duplicate_conflict", "orphan_item", "orphan_payment", "no_items", "totals_mismatch", "bad_quantity",
           "unknown_currency", "bad_amount", "bad_date", "refund_exceeds_paid", "bad_code", "missing_field",
           "bad_country")
CHECKSUM_TAG = "orderly-legacy-v1"
DETAIL_LIMIT = 100_000

# ------------------------------------------------------------------------------------------------ content

# (SKU, NAME_EN, NAME_AR, price in AED fils, zero-rated)
CATALOG = [
    ("OUD-PRF-050", "Oud perfume 50 ml", "عطر عود 50 مل", 35000, False),
    ("OUD-PRF-100", "Oud perfume 100 ml", "عطر عود 100 مل", 62000, False),
    ("ATR-RSE-012", "Rose attar 12 ml", "عطر ورد 12 مل", 8500, False),
    ("BKH-MIX-250", "Bakhoor, mixed 250 g", "بخور مشكّل 250 غ", 12000, False),
    ("DTS-MDJ-1KG", "Dates, Medjool 1 kg", "تمر مجدول 1 كغ", 6500, True),
    ("DTS-SKR-500", "Dates, Sukkari 500 g", "تمر سكري 500 غ", 3250, True),
    ("TEA-KRK-250", "Karak tea 250 g", "شاي كرك 250 غ", 1850, False),
    ("CFE-ARB-500", "Arabic coffee with cardamom 500 g", "قهوة عربية بالهيل 500 غ", 4500, False),
    ("ABY-BLK-M", 'Abaya "Classic" black, M', 'عباية "كلاسيك" سوداء، وسط', 45000, False),
    ("ABY-BLK-L", 'Abaya "Classic" black, L', 'عباية "كلاسيك" سوداء، كبير', 45000, False),
    ("KDR-WHT-56", "Kandura, white 56", "كندورة بيضاء 56", 28000, False),
    ("SHM-RED-01", "Shemagh, red", "شماغ أحمر", 9500, False),
    ("PRY-MAT-01", "Prayer mat, travel", "سجادة صلاة للسفر", 7500, False),
    ("QRN-STD-01", "Quran stand, wood", "حامل مصحف خشبي", 5500, True),
    ("LMP-BRS-02", "Brass lantern, small", "فانوس نحاسي صغير", 16500, False),
    ("DLH-SET-06", "Dallah & finjan set (6)", "طقم دلة وفناجين (6)", 22000, False),
    ("MBL-CHG-65W", "USB-C charger 65W", "شاحن USB-C بقدرة 65 واط", 14900, False),
    ("MBL-CBL-2M", "USB-C cable 2 m", "كابل USB-C طول 2 م", 3900, False),
    ("HNY-SDR-500", "Sidr honey 500 g", "عسل سدر 500 غ", 27500, True),
    ("SAF-IRN-5G", "Saffron 5 g", "زعفران 5 غ", 8900, True),
    ("TV-55-UHD", '55" UHD television', "تلفاز 55 بوصة", 219900, False),
    ("LPT-14-PRO", 'Laptop 14", 16 GB', "حاسوب محمول 14 بوصة", 549900, False),
    ("WCH-GLD-01", "Watch, gold-plated", "ساعة مطلية بالذهب", 129900, False),
    ("CRP-SLK-2X3", "Silk carpet 2x3 m", "سجادة حرير 2×3 م", 899900, False),
]
UNCATALOGUED = ("OLD-DISC-0999", 4200)           # sold once, no PRODUCTS row (the name falls back to the SKU)
CATALOG_CURRENCIES = ("AED", "SAR", "KWD", "BHD", "OMR")
# minor units of the currency per AED fils, and the rounding step in minor units
FX = {"AED": (1.0, 5), "SAR": (1.021, 5), "KWD": (0.837, 50), "BHD": (1.026, 50), "OMR": (1.048, 50)}
VAT_BP = {"AED": 500, "SAR": 1500, "KWD": 0, "BHD": 1000, "OMR": 500}
SHIPPING = {"AED": (0, 1500, 2500), "SAR": (0, 2000, 3500), "KWD": (0, 1500, 2000), "BHD": (0, 1500, 2500),
            "OMR": (0, 1500, 2000)}

AR_FIRST = ["أَحْمَـــد", "\u0645\u062d\u0645\u0651\u064e\u062f", "محمّـَد", "فاطمة", "عائشة", "خالـــد", "نُورَة", "عبدالله", "سارة", "يوسف",
            "مريم", "عُمَر", "ليلى", "سلطان", "هند", "إبراهيم"]
AR_LAST = ["الكعبي", "المنصوري", "العتيبي", "الشمّري", "القحطاني", "الصباح", "الهاشمي", "بن راشد", "الزعابي",
           "الغامدي"]
EN_FIRST = ["John", "Priya", "Fatima", "Mohammed", "Sarah", "René", "Chloé", "Aisha", "Rajesh", "Maria", "Omar",
            "Léa"]
EN_LAST = ["Smith", "Al-Mansoori", "O'Neil", "D'Souza", "Fernandes", "Khan", "Dupont", "Nair", "Hélène-Brun",
           "Al Habtoor"]
SHIP_NAMES = ['Reception, Al Noor Tower', 'Villa "Al Yasmin"', 'مكتب "النخبة"، الطابق 3', "Security desk",
              'Smith, J. (c/o "Acme" FZE)', "الاستقبال، برج الريم"]
ADDRESSES = [
    "Flat 1204, Marina Heights\nDubai Marina",
    'Villa "Sidra" 18, Arabian Ranches',
    "شارع الملك فهد، حي العليا",
    "Block 3, Street 45, House 12",
    "Building 7, Street 12\r\nAl Olaya",
    "P.O. Box 1234",
    'Apt 5B, "Pearl" bldg\nSalmiya\nnear the co-op',
    "طريق الشيخ زايد، بناية 4، شقة 12",
    "Office 3, Level 2, Gate Village",
    "House 27, Road 3803",
]
CITIES = {
    "AE": ["Dubai", "Abu Dhabi", "Sharjah", "دبي", "Al Ain"],
    "SA": ["Riyadh", "Jeddah", "الرياض", "جدة", "Al Khobar, Eastern Province"],
    "KW": ["Kuwait City", "Salmiya", "Hawalli", "الكويت"],
    "BH": ["Manama", "المنامة", "Muharraq"],
    "OM": ["Muscat", "مسقط", "Sohar"],
    "QA": ["Doha", "الدوحة", "Al Wakrah"],
    "EG": ["Cairo", "القاهرة", "Alexandria"],
}
COD_REFS = ["ARAMEX-{}", "SMSA {}", "Q-Post/{}", "سائق {}"]
REFUSAL_REFS = ["Refused at door", "رفض الاستلام", None]

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")

# phone forms cycled over the first good orders (so a small export has them all), then drawn at random
PHONE_CYCLE = ["plus", "national", "00", "arabic", "plus_dash", "national_fmt", "persian", "null_NULL",
               "national", "plus", "null_empty", "00", "national_dots"]
PHONE_RANDOM = (["plus"] * 25 + ["national"] * 30 + ["00"] * 12 + ["plus_dash"] * 5 + ["national_fmt"] * 6
                + ["national_dots"] * 3 + ["arabic"] * 8 + ["persian"] * 3 + ["null_NULL"] * 5
                + ["null_empty"] * 3)


def nsn(rng, iso):
    """A mobile national significant number of the country (what follows the calling code)."""
    r = rng.randrange
    if iso == "AE":
        return "5" + "024568"[r(6)] + f"{r(10**7):07d}"
    if iso == "SA":
        return "5" + "0345689"[r(7)] + f"{r(10**7):07d}"
    if iso == "KW":
        return "569"[r(3)] + f"{r(10**7):07d}"
    if iso == "BH":
        return "3" + "3469"[r(4)] + f"{r(10**6):06d}"
    if iso == "OM":
        return "9" + f"{r(10**7):07d}"
    if iso == "QA":
        return "3567"[r(4)] + f"{r(10**7):07d}"
    if iso == "EG":
        return "1" + "0125"[r(4)] + f"{r(10**8):08d}"
    raise ValueError(iso)


TRUNK = {"AE": True, "SA": True, "EG": True, "KW": False, "BH": False, "OM": False, "QA": False}


def render_phone(form, iso, n, utf8):
    """The text of a phone of country `iso` with national significant number `n` in the given form."""
    cc = CALLING[iso]
    national = ("0" + n) if TRUNK[iso] else n
    if form in ("arabic", "persian") and not utf8:
        form = "national"                                      # Windows-1256 has no Arabic-Indic digits
    if form == "plus":
        if len(n) == 9:
            return f"+{cc} {n[:2]} {n[2:5]} {n[5:]}"
        if len(n) == 10:
            return f"+{cc} {n[:2]} {n[2:6]} {n[6:]}"
        return f"+{cc} {n[:4]} {n[4:]}"
    if form == "plus_dash":
        return f"+{cc}-{n[:2]}-{n[2:5]}-{n[5:]}"
    if form == "00":
        return f"00{cc}{n}"
    if form == "national":
        return national
    if form == "national_fmt":
        if TRUNK[iso]:
            return f"({national[:3]}) {national[3:6]}-{national[6:]}"
        return f"{national[:4]} {national[4:]}"
    if form == "national_dots":
        if TRUNK[iso]:
            return f"{national[:3]}.{national[3:6]}.{national[6:]}"
        return f"{national[:4]}.{national[4:]}"
    if form == "arabic":
        return national.translate(ARABIC_INDIC)
    if form == "persian":
        return (national[:4] + " " + national[4:]).translate(PERSIAN)
    raise ValueError(form)


def utf8_variant(name, rng):
    """Same text after NFC, written decomposed (only in UTF-8 exports: Windows-1256 cannot hold the marks)."""
    name = name.replace("أ", "ا\u0654").replace("إ", "ا\u0655") if rng.random() < 0.5 else name
    return unicodedata.normalize("NFD", name) if rng.random() < 0.5 else name


def nfc(s):
    return None if s is None else unicodedata.normalize("NFC", s)


def plain_amount(v, exp):
    d = 10 ** exp
    return f"{v // d}.{v % d:0{exp}d}"


def render_amount(v, exp, r):
    """Decimal text of `v` minor units: thousands commas and fewer decimals now and then (never more)."""
    if v < 0:
        raise ValueError("negative amount")
    d = 10 ** exp
    major, frac = divmod(v, d)
    ms = f"{major:,}" if (major >= 1000 and r < 0.5) else str(major)
    fs = f"{frac:0{exp}d}"
    if 0.35 < r < 0.62:
        fs = fs.rstrip("0")
    return f"{ms}.{fs}" if fs else ms


def fmt_local(dt):
    return f"{dt.day:02d}/{dt.month:02d}/{dt.year:04d} {dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"


def fmt_utc(dt_local, store):
    u = dt_local - timedelta(hours=STORE_OFFSET_H[store])
    return f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}Z"


def checksum_of(arr):
    text = json.dumps(arr, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------- the faults

# order-level faults: (reason, variant); each makes exactly one order rejected with exactly one reason
ORDER_FAULTS = [
    ("duplicate_conflict", "status_differs"),
    ("no_items", "no_items"),
    ("totals_mismatch", "items_vs_subtotal"),
    ("totals_mismatch", "sum_vs_total"),
    ("bad_quantity", "zero"),
    ("bad_quantity", "negative"),
    ("bad_quantity", "fraction"),
    ("unknown_currency", "DHS"),
    ("bad_amount", "orders_not_a_number"),
    ("bad_amount", "item_too_many_decimals"),
    ("bad_amount", "payment_too_many_decimals"),
    ("bad_date", "feb31"),
    ("bad_date", "hour25"),
    ("bad_date", "payment_minute61"),
    ("refund_exceeds_paid", "card"),
    ("refund_exceeds_paid", "cod"),
    ("bad_code", "status"),
    ("bad_code", "pay_method"),
    ("bad_code", "payment_type"),
    ("missing_field", "orders_cust_name"),
    ("missing_field", "items_line_tax"),
    ("missing_field", "payments_pay_date"),
    ("bad_country", "jordan"),
    ("bad_country", "typo"),
]
# row-level faults, attached to a good order's slot
ROW_FAULTS = [
    ("duplicates_identical", "identical"),
    ("orphan_item", "deleted_order"),
    ("orphan_item", "unknown_order"),
    ("orphan_payment", "deleted_order"),
    ("orphan_payment", "unknown_order"),
]
# the scenario the faulty order is built from, so that the fault is its only reason
FAULT_BASE = {
    "status_differs": ("S", "CC", "auth_capt"), "no_items": ("P", "CC", "auth_only"),
    "items_vs_subtotal": ("D", "CC", "auth_capt"), "sum_vs_total": ("D", "COD", "coll"),
    "zero": ("D", "CC", "auth_capt"), "negative": ("D", "CC", "capt"), "fraction": ("S", "COD", "none"),
    "DHS": ("D", "CC", "auth_capt"), "orders_not_a_number": ("D", "CC", "auth_capt"),
    "item_too_many_decimals": ("S", "CC", "auth_capt"), "payment_too_many_decimals": ("D", "CC", "auth_capt"),
    "feb31": ("D", "COD", "coll"), "hour25": ("A", "CC", "none"), "payment_minute61": ("D", "CC", "auth_capt"),
    "card": ("R", "CC", "over"), "cod": ("X", "COD", "over"), "status": ("S", "CC", "auth_capt"),
    "pay_method": ("D", "CC", "auth_capt"), "payment_type": ("C", "CC", "auth_only"),
    "orders_cust_name": ("N", "COD", "none"), "items_line_tax": ("D", "CC", "auth_capt"),
    "payments_pay_date": ("D", "COD", "coll"), "jordan": ("D", "CC", "auth_capt"), "typo": ("S", "COD", "none"),
}
FAULT_FILE = {
    "items_vs_subtotal": ORDERS_CSV, "sum_vs_total": ORDERS_CSV, "no_items": ORDERS_CSV,
    "zero": ITEMS_CSV, "negative": ITEMS_CSV, "fraction": ITEMS_CSV, "item_too_many_decimals": ITEMS_CSV,
    "items_line_tax": ITEMS_CSV, "payment_too_many_decimals": PAYMENTS_CSV, "payment_minute61": PAYMENTS_CSV,
    "card": PAYMENTS_CSV, "cod": PAYMENTS_CSV, "payment_type": PAYMENTS_CSV, "payments_pay_date": PAYMENTS_CSV,
}

# scenarios the first good orders take, so that even 60 orders hold every letter, method and payment story:
# (letter, method, plan, flags)
SCENARIOS = [
    ("D", "CC", "auth_capt", ""), ("N", "CC", "none", ""), ("N", "COD", "none", ""), ("A", "CC", "none", ""),
    ("A", "COD", "none", ""), ("P", "CC", "auth_capt", ""), ("P", "CC", "auth_only", ""),
    ("P", "COD", "none", ""), ("S", "CC", "auth_capt", ""), ("S", "COD", "none", ""), ("S", "COD", "none", ""),
    ("D", "CC", "capt_split", "uncatalogued"), ("D", "COD", "coll", ""), ("C", "CC", "auth_only", ""),
    ("C", "CC", "capt_rfnd", ""), ("C", "COD", "none", ""), ("R", "CC", "full", ""), ("R", "CC", "partial", ""),
    ("R", "COD", "full", ""), ("X", "CC", "partial", ""), ("X", "CC", "norefund", ""),
    ("X", "COD", "partial", ""), ("X", "COD", "norefund", ""), ("C", "COD", "codref", ""),
    ("S", "COD", "codref", ""), ("X", "CC", "full_split", ""), ("P", "CC", "capt", ""), ("D", "COD", "coll", ""),
    ("S", "CC", "capt", ""), ("D", "CC", "auth_capt", ""),
]


def table(pairs):
    out = []
    for v, w in pairs:
        out.extend([v] * w)
    return out


LETTER_TABLE = table([("N", 4), ("A", 4), ("P", 8), ("S", 12), ("D", 46), ("C", 8), ("R", 6), ("X", 12)])
NEW_LETTER_TABLE = table([("N", 20), ("A", 15), ("P", 25), ("S", 15), ("D", 15), ("C", 5), ("R", 2), ("X", 3)])
CC_PLANS = {
    "N": ["none"], "A": ["none"], "P": table([("auth_capt", 7), ("auth_only", 2), ("capt", 1)]),
    "S": table([("auth_capt", 8), ("capt", 1), ("capt_split", 1)]),
    "D": table([("auth_capt", 8), ("capt", 1), ("capt_split", 1)]),
    "C": table([("auth_only", 6), ("none", 2), ("capt_rfnd", 2)]),
    "R": table([("full", 4), ("full_split", 1), ("partial", 3), ("norefund", 2)]),
    "X": table([("full", 4), ("full_split", 1), ("partial", 3), ("norefund", 2)]),
}
COD_PLANS = {
    "N": ["none"], "A": ["none"], "P": ["none"], "S": table([("none", 17), ("codref", 1)]), "D": ["coll"],
    "C": table([("none", 5), ("codref", 1)]), "R": table([("full", 5), ("partial", 3), ("norefund", 2)]),
    "X": table([("full", 5), ("partial", 3), ("norefund", 2)]),
}
COUNTRY_TABLE = table([("AE", 35), ("SA", 30), ("KW", 15), ("BH", 6), ("OM", 5), ("QA", 5), ("EG", 4)])
ITEM_COUNT_TABLE = table([(1, 1), (2, 2), (3, 3), (4, 4)])        # mean 3
QTY_TABLE = table([(1, 60), (2, 25), (3, 10), (4, 3), (6, 2)])


def expected_payment_status(letter, method, plan):
    """The Orderly payment status the scenario is meant to produce (the generator's side of the mapping)."""
    if method == "CC":
        if letter in "NA":
            return "pending"
        if letter == "P":
            return "authorized" if plan == "auth_only" else "captured"
        if letter in "SD":
            return "captured"
        if letter == "C":
            return "refunded" if plan == "capt_rfnd" else "voided"
        return {"full": "refunded", "full_split": "refunded", "partial": "partially_refunded",
                "norefund": "captured"}[plan]
    if plan == "codref":
        return "cod_refused"
    if letter == "D":
        return "cod_collected"
    if letter in "RX":
        return {"full": "refunded", "partial": "partially_refunded", "norefund": "cod_collected"}[plan]
    if letter == "C":
        return "cod_cancelled"  # a cancelled COD order owes no cash
    return "cod_pending"


# --------------------------------------------------------------------------------------------- generator

class Order:
    __slots__ = ("oid", "order_no", "store", "cust_id", "name", "phone", "currency", "created", "local",
                 "letter", "method", "plan", "sub", "tax", "ship", "total", "ship_name", "addr", "city",
                 "country", "lines", "pays", "reason", "rfile", "row", "item_rows", "pay_rows", "good",
                 "evolved", "new", "variant")


class Generator:
    def __init__(self, seed, n, encoding, faults, newer, out):
        self.seed, self.n, self.encoding, self.faults, self.newer, self.out = seed, n, encoding, faults, newer, out
        self.utf8 = encoding == "utf-8"
        self.rng = random.Random(f"orderly-legacy-export:{seed}:{n}:{encoding}:{int(faults)}")
        self.evo = random.Random(f"orderly-legacy-export:evolve:{seed}:{n}:{encoding}:{int(faults)}")
        self.n_new = max(5, n // 20) if newer else 0
        self.detail = n + self.n_new <= DETAIL_LIMIT
        self.prices = {}
        for sku, _en, _ar, aed, _z in CATALOG + [(UNCATALOGUED[0], "", "", UNCATALOGUED[1], False)]:
            for cur, (rate, step) in FX.items():
                self.prices[(sku, cur)] = max(step, int(round(aed * rate / step)) * step)
        self.zero_rated = {c[0] for c in CATALOG if c[4]}
        self.skus = [c[0] for c in CATALOG]
        self.next_oid = 200001
        self.next_item = 5000001
        self.next_pay = 8000001
        self.cust_pool = max(25, n // 3)
        self.g = 0                                    # good orders so far (drives the coverage cycles)
        self.start = datetime(2019, 1, 1, 8, 0, 0)
        self.span = 6 * 365 * 86400
        # stats of accepted orders
        self.accepted = 0
        self.rejected = []                            # (file, legacy_id, reason, variant)
        self.dups_identical = 0
        self.by_letter = {c: 0 for c in LETTERS}
        self.by_status = {s: 0 for s in ORDERLY_STATUSES}
        self.totals = {}
        self.reserved = {s: 0 for s in self.skus}
        self.base_reserved = {s: 0 for s in self.skus}
        self.shipped_ps = {s: 0 for s in self.skus}
        self.new_reserved = {s: 0 for s in self.skus}
        self.rows = {ORDERS_CSV: 0, ITEMS_CSV: 0, PAYMENTS_CSV: 0, PRODUCTS_CSV: 0}
        self.kept = []                                # accepted orders (detail mode)
        self.deferred_pays = []                       # (order, type, amount, local dt, ref) added by --newer
        self.changes = {}
        self.new_ids = []
        self.evo_counts = {"SD": 0, "DX": 0, "PS": 0}
        self.fault_list = []                          # (reason, variant, legacy id) in generation order

    # ---------------------------------------------------------------- files

    def open_files(self):
        frng = random.Random(f"orderly-legacy-export:files:{self.seed}:{self.encoding}")
        names = [ORDERS_CSV, ITEMS_CSV, PAYMENTS_CSV, PRODUCTS_CSV]
        crlf = [frng.random() < 0.5 for _ in names]
        if all(crlf) or not any(crlf):
            crlf[1] = not crlf[1]
        bom = [self.utf8 and frng.random() < 0.5 for _ in names]
        if self.utf8 and (all(bom) or not any(bom)):
            bom[0] = not bom[0]
        self.layout = {}
        self.fh, self.w = {}, {}
        for name, c, b in zip(names, crlf, bom):
            f = open(os.path.join(self.out, name), "w", encoding=self.encoding, newline="", buffering=1 << 20)
            if b:
                f.write("\ufeff")
            self.fh[name] = f
            self.w[name] = csv.writer(f, lineterminator="\r\n" if c else "\n")
            self.layout[name] = {"line_endings": "CRLF" if c else "LF", "bom": bool(b)}
        self.w[ORDERS_CSV].writerow(ORDER_COLS)
        self.w[ITEMS_CSV].writerow(ITEM_COLS)
        self.w[PAYMENTS_CSV].writerow(PAY_COLS)
        self.w[PRODUCTS_CSV].writerow(PROD_COLS)
        self.buf = {ORDERS_CSV: [], ITEMS_CSV: [], PAYMENTS_CSV: []}

    def emit(self, name, row):
        self.buf[name].append(row)
        self.rows[name] += 1
        if len(self.buf[name]) >= 20000:
            self.w[name].writerows(self.buf[name])
            self.buf[name].clear()

    def flush(self):
        for name, b in self.buf.items():
            self.w[name].writerows(b)
            b.clear()

    # ---------------------------------------------------------------- one order

    def build(self, i, scenario, fault=None, new=False):
        rng = self.rng
        rnd = rng.random
        letter, method, plan, flags = scenario
        g = None if fault is not None else (10 ** 6 if new else self.g)   # drives the coverage cycles
        o = Order()
        o.reason = fault[0] if fault else None
        variant = fault[1] if fault else None
        o.variant = variant
        o.rfile = FAULT_FILE.get(variant, ORDERS_CSV) if fault else None
        o.good = fault is None
        o.evolved = False
        o.new = new
        o.oid = self.next_oid
        self.next_oid += 1 + (1 if rnd() < 0.03 else 0)        # gaps: deleted orders

        # where it goes, in what money
        if g is not None and g < len(COUNTRY_SPELLINGS):
            spelling, iso = COUNTRY_SPELLINGS[g]
        else:
            iso = COUNTRY_TABLE[rng.randrange(len(COUNTRY_TABLE))]
            sp = SPELLINGS_OF[iso]
            spelling = sp[rng.randrange(len(sp))]
            r = rnd()
            spelling = spelling.upper() if r < 0.15 else spelling.lower() if r < 0.3 else spelling
        if iso == "AE" or iso == "QA":
            store, cur = "DXB", "AED"
        elif iso == "SA":
            store, cur = ("RUH" if rnd() < 0.6 else "JED"), "SAR"
        elif iso == "KW":
            store, cur = "KWI", "KWD"
        elif iso == "BH":
            store, cur = ("DXB" if rnd() < 0.6 else "KWI"), "BHD"
        elif iso == "OM":
            store, cur = "DXB", "OMR"
        else:                                                  # EG
            store, cur = ("JED", "SAR") if rnd() < 0.5 else ("DXB", "AED")
        exp = EXPONENT[cur]
        o.store, o.currency, o.country = store, cur, iso

        # when (store-local wall time; ORDER_ID grows with time)
        if new:
            local = self.start + timedelta(seconds=self.span + (i - self.n) * 1800 + rng.randrange(1800))
        else:
            step = max(1, self.span // self.n)
            local = self.start + timedelta(seconds=(i * self.span) // self.n + rng.randrange(step))
        if g == 0:
            local = local.replace(hour=0, minute=20, second=15)          # DXB: the UTC date is the day before
        elif g == 1:
            local = datetime(2020, 1, 1, 1, 30, 0)                       # DXB: UTC is still 2019
        elif g == 2:
            local = datetime(2020, 2, 29, 23, 59, 59)                    # leap day
        elif g == 4:
            local = local.replace(hour=1, minute=5, second=0)            # Riyadh/Jeddah near midnight
        elif g == 7:
            local = local.replace(hour=0, minute=0, second=0)            # Kuwait, midnight
        o.local = local
        o.created = fmt_utc(local, store)
        o.order_no = f"{store}-{local.year:04d}-{o.oid % 10_000_000:07d}"

        # who
        cid = 10000 + rng.randrange(self.cust_pool)
        o.cust_id = cid
        if cid % 5 < 3:
            name = AR_FIRST[cid % len(AR_FIRST)] + " " + AR_LAST[(cid // 7) % len(AR_LAST)]
        elif cid % 17 == 0:
            name = EN_LAST[(cid // 3) % len(EN_LAST)] + ", " + EN_FIRST[cid % len(EN_FIRST)]
        else:
            name = EN_FIRST[cid % len(EN_FIRST)] + " " + EN_LAST[(cid // 3) % len(EN_LAST)]
        if self.utf8 and rnd() < 0.3:
            name = utf8_variant(name, rng)
        o.name = name
        if g is not None and g < len(PHONE_CYCLE):
            form = PHONE_CYCLE[g]
        else:
            form = PHONE_RANDOM[rng.randrange(len(PHONE_RANDOM))]
        if variant in ("jordan", "typo"):
            form = "plus"
        if form.startswith("null"):
            phone_text, o.phone = ("NULL" if form == "null_NULL" else ""), None
        else:
            p_iso = iso
            if form in ("plus", "00", "plus_dash") and rnd() < 0.15:
                p_iso = COUNTRY_TABLE[rng.randrange(len(COUNTRY_TABLE))]   # an expat's home number
            n_ = nsn(rng, p_iso)
            phone_text = render_phone(form, p_iso, n_, self.utf8)
            o.phone = "+" + CALLING[p_iso] + n_
        # where to
        r = rnd()
        if r < 0.75:
            ship_name = name
        elif r < 0.9:
            ship_name = SHIP_NAMES[rng.randrange(len(SHIP_NAMES))]
        else:
            ship_name = AR_FIRST[rng.randrange(len(AR_FIRST))] + " " + AR_LAST[rng.randrange(len(AR_LAST))]
        o.ship_name = ship_name
        if g is not None and g < len(ADDRESSES):
            addr = ADDRESSES[g]
        else:
            addr = ADDRESSES[rng.randrange(len(ADDRESSES))]
        addr_text = addr
        if g in (3, 9) or (g is None or g >= len(ADDRESSES)) and rnd() < 0.04:
            addr, addr_text = None, ("NULL" if (g == 3 or (g != 9 and rnd() < 0.5)) else "")
        o.addr = addr
        cities = CITIES[iso]
        o.city = cities[rng.randrange(len(cities))]

        # what: (sku, qty text, qty value, unit price, qty x price, line tax)
        lines = []
        if variant != "no_items":
            k = ITEM_COUNT_TABLE[rng.randrange(10)]
            skus = rng.sample(self.skus, k)
            if "uncatalogued" in flags:
                skus[0] = UNCATALOGUED[0]
            vat = VAT_BP[cur]
            for sku in skus:
                q = QTY_TABLE[rng.randrange(100)]
                price = self.prices[(sku, cur)]
                if rnd() < 0.1:
                    price = price * 9 // 10                                 # a discount, any minor amount
                sub = q * price
                ltax = 0 if sku in self.zero_rated else (sub * vat + 5000) // 10000
                lines.append([sku, str(q), q, price, sub, ltax])
            if variant == "zero":
                lines[0][1:] = ["0", 0, lines[0][3], 0, 0]
            elif variant == "negative":
                lines[0][1:] = ["-1", -1, 0, 0, 0]                          # a free gift, so no amount is < 0
            elif variant == "fraction":
                p = lines[0][3] - lines[0][3] % 2
                sub = p * 3 // 2
                lines[0][1:] = ["1.5", None, p, sub, 0 if lines[0][0] in self.zero_rated
                                else (sub * vat + 5000) // 10000]
        shipping = SHIPPING[cur][rng.randrange(3)]
        if variant == "no_items" and shipping == 0:
            shipping = SHIPPING[cur][1]
        ship_vat = 0 if rnd() < 0.3 else (shipping * VAT_BP[cur] + 5000) // 10000
        o.sub = sum(l[4] for l in lines)
        o.tax = sum(l[5] for l in lines) + ship_vat
        o.ship = shipping
        o.total = o.sub + o.tax + shipping
        o.letter, o.method, o.plan = letter, method, plan

        # item rows
        o.lines, o.item_rows = [], []
        for sku, qtext, q, price, sub, ltax in lines:
            iid = self.next_item
            self.next_item += 1
            o.lines.append((iid, sku, q, price, ltax, sub + ltax))
            o.item_rows.append([str(iid), str(o.oid), sku, qtext, render_amount(price, exp, rnd()),
                                render_amount(ltax, exp, rnd()), render_amount(sub + ltax, exp, rnd())])
        if variant == "item_too_many_decimals":
            o.item_rows[0][4] = plain_amount(o.lines[0][3], exp) + "0"     # same value, one decimal too many
        elif variant == "items_line_tax":
            o.item_rows[0][5] = ""
        if len(o.item_rows) > 1 and (g in (14, 17) or rnd() < 0.03):
            o.item_rows.reverse()                                          # not in ITEM_ID order in the file

        # payments: (type, amount, local time, ref)
        pays = self.payments(o, local)
        o.pays, o.pay_rows = [], []
        for typ, amt, when, ref in pays:
            self.add_payment(o, typ, amt, when, ref)
        if variant == "payment_too_many_decimals":
            k = next(j for j, p in enumerate(o.pays) if p[1] == "CAPT")
            o.pay_rows[k][3] = plain_amount(o.pays[k][2], exp) + "5"
        elif variant == "payment_minute61":
            o.pay_rows[-1][4] = o.pay_rows[-1][4][:11] + "10:61:00"
        elif variant == "payment_type":
            o.pay_rows[0][2] = "VOID"
        elif variant == "payments_pay_date":
            o.pay_rows[0][4] = "NULL"
        if len(o.pay_rows) > 1 and (g == 16 or rnd() < 0.02):
            o.pay_rows.reverse()
        if g == 11 and o.pay_rows:
            o.pay_rows[0][2] = o.pay_rows[0][2].lower()                    # 'capt' is CAPT (trimmed, upper)
        elif g is not None and g > 40 and o.pay_rows and rnd() < 0.01:
            o.pay_rows[0][2] = o.pay_rows[0][2].lower()

        # the order row
        r = rnd()
        cur_text = cur
        if g == 3 or (g is not None and g > 40 and r < 0.05):
            cur_text = cur.lower() + " "
        elif g == 9 or (g is not None and g > 40 and r < 0.15):
            cur_text = cur.lower()
        elif g is not None and g > 40 and r < 0.18:
            cur_text = " " + cur
        status_text = letter.lower() if g == 8 or (g is not None and g > 40 and rnd() < 0.01) else letter
        method_text = method
        if g == 10 or (g is not None and g > 40 and rnd() < 0.02):
            method_text = method.lower() + " "
        store_text = store.lower() if g == 13 or (g is not None and g > 40 and rnd() < 0.01) else store
        o.row = [str(o.oid), o.order_no, store_text, str(cid), name, phone_text, cur_text, fmt_local(local),
                 status_text, method_text, render_amount(o.sub, exp, rnd()), render_amount(o.tax, exp, rnd()),
                 render_amount(shipping, exp, rnd()), render_amount(o.total, exp, rnd()), ship_name, addr_text,
                 o.city, spelling]
        if variant:
            self.apply_order_fault(o, variant, exp)
        if fault is None and not new:
            self.g += 1
        return o

    def payments(self, o, local):
        rng, total, plan, method = self.rng, o.total, o.plan, o.method
        r = rng.randrange

        def ref_card(prefix):
            return f"{prefix}{r(16**8):08X}" if rng.random() < 0.9 else None

        auth_at = local + timedelta(seconds=5 + r(120))
        capt_at = local + timedelta(seconds=3600 + r(2 * 86400))
        coll_at = local + timedelta(seconds=2 * 86400 + r(4 * 86400))
        rf_at = local + timedelta(seconds=7 * 86400 + r(20 * 86400))
        out = []
        if method == "CC":
            if plan in ("auth_capt", "auth_only", "capt_split", "capt_rfnd", "full", "full_split", "partial",
                        "norefund", "over"):
                out.append(("AUTH", total, auth_at, ref_card("A")))
            if plan in ("auth_capt", "capt", "capt_rfnd", "full", "full_split", "partial", "norefund", "over"):
                out.append(("CAPT", total, capt_at, ref_card("T")))
            if plan == "capt_split":
                a = max(1, total * r(20, 80) // 100)
                out.append(("CAPT", a, capt_at, ref_card("T")))
                out.append(("CAPT", total - a, capt_at + timedelta(hours=5), ref_card("T")))
        else:
            if plan in ("coll", "full", "partial", "norefund", "over"):
                out.append(("COD_COLL", total, coll_at,
                            COD_REFS[r(4)].format(r(10**9)) if rng.random() < 0.8 else None))
            if plan == "codref":
                out.append(("COD_REF", 0, coll_at, REFUSAL_REFS[r(3)]))
        if plan in ("full", "capt_rfnd"):
            out.append(("RFND", total, rf_at, ref_card("R")))
        elif plan == "full_split":
            a = max(1, total * r(20, 80) // 100)
            out.append(("RFND", a, rf_at, ref_card("R")))
            out.append(("RFND", total - a, rf_at + timedelta(days=2), ref_card("R")))
        elif plan == "partial":
            out.append(("RFND", max(1, total * r(10, 90) // 100), rf_at, ref_card("R")))
        elif plan == "over":
            if method == "CC":
                out.append(("RFND", total + 10 ** EXPONENT[o.currency], rf_at, ref_card("R")))
            else:
                a = max(1, total // 2)
                out.append(("RFND", a, rf_at, None))
                out.append(("RFND", total - a + 1, rf_at + timedelta(days=1), None))
        return out

    def add_payment(self, o, typ, amt, when, ref, pid=None):
        if pid is None:
            pid = self.next_pay
            self.next_pay += 1
        o.pays.append([pid, typ, amt, fmt_utc(when, o.store), ref])
        row = [str(pid), str(o.oid), typ, render_amount(amt, EXPONENT[o.currency], self.rng.random()),
               fmt_local(when), "NULL" if ref is None else ref]
        o.pay_rows.append(row)
        return row

    def apply_order_fault(self, o, variant, exp):
        row = o.row
        if variant == "items_vs_subtotal":
            row[10] = plain_amount(o.sub + 1, exp)          # SUBTOTAL one minor unit above the items ...
            row[13] = plain_amount(o.total + 1, exp)        # ... and TOTAL still SUBTOTAL + TAX + SHIPPING
        elif variant == "sum_vs_total":
            row[13] = plain_amount(o.total + 10 ** exp, exp)
        elif variant == "DHS":
            row[6] = "DHS"
        elif variant == "orders_not_a_number":
            t = plain_amount(o.total, exp)
            row[13] = t.replace("0", "O", 1) if "0" in t else "O" + t[1:]
        elif variant == "feb31":
            row[7] = "31/02/2019" + row[7][10:]
        elif variant == "hour25":
            row[7] = row[7][:11] + "25:10:00"
        elif variant == "status":
            row[8] = "H"
        elif variant == "pay_method":
            row[9] = "TABBY"
        elif variant == "orders_cust_name":
            row[4] = "NULL"
        elif variant == "jordan":
            row[17] = "Jordan"
        elif variant == "typo":
            row[17] = "Untied Arab Emirates"

    # ---------------------------------------------------------------- the run

    def random_scenario(self, new=False):
        rng = self.rng
        tbl = NEW_LETTER_TABLE if new else LETTER_TABLE
        letter = tbl[rng.randrange(len(tbl))]
        method = "CC" if rng.random() < 0.62 else "COD"
        plans = (CC_PLANS if method == "CC" else COD_PLANS)[letter]
        return (letter, method, plans[rng.randrange(len(plans))], "")

    def run(self):
        n = self.n
        order_faults, row_faults = {}, {}
        if self.faults:
            frng = random.Random(f"orderly-legacy-export:slots:{self.seed}:{n}")
            need = len(ORDER_FAULTS) + len(ROW_FAULTS)
            slots = frng.sample(range(n), need)
            for s, f in zip(slots, ORDER_FAULTS):
                order_faults[s] = f
            for s, f in zip(slots[len(ORDER_FAULTS):], ROW_FAULTS):
                row_faults[s] = f
        self.open_files()
        pending = []                                   # (emit after this many more orders, row)
        for i in range(n):
            fault = order_faults.get(i)
            rfault = row_faults.get(i)
            gap = None
            if rfault and rfault[1] == "deleted_order":
                gap = self.next_oid                        # the id of an order the legacy system deleted
                self.next_oid += 1
            if fault:
                letter, method, plan = FAULT_BASE[fault[1]]
                o = self.build(i, (letter, method, plan, ""), fault)
            else:
                sc = SCENARIOS[self.g] if self.g < len(SCENARIOS) else self.random_scenario()
                o = self.build(i, sc)
            if fault and fault[1] == "status_differs":
                copy = list(o.row)
                copy[8] = "D"
                pending.append([3, copy])
            if rfault and rfault[0] == "duplicates_identical":
                pending.append([2, list(o.row)])
                self.dups_identical += 1
                self.fault_list.append(("duplicates_identical", "identical", o.oid))
            if self.newer and o.good and not rfault:
                self.evolve(o)
            self.emit_order(o)
            if rfault and rfault[0] == "orphan_item":
                ref = gap if gap is not None else 4242
                iid = self.next_item
                self.next_item += 1
                sku = self.skus[iid % len(self.skus)]
                price = self.prices[(sku, "AED")]
                tax = (price * 500 + 5000) // 10000
                self.emit(ITEMS_CSV, [str(iid), str(ref), sku, "1", plain_amount(price, 2), plain_amount(tax, 2),
                                      plain_amount(price + tax, 2)])
                self.rejected.append((ITEMS_CSV, iid, "orphan_item", rfault[1]))
                self.fault_list.append(("orphan_item", rfault[1], iid))
            elif rfault and rfault[0] == "orphan_payment":
                ref = gap if gap is not None else 4243
                pid = self.next_pay
                self.next_pay += 1
                when = o.local + timedelta(days=3)
                self.emit(PAYMENTS_CSV, [str(pid), str(ref), "RFND" if gap else "CAPT", "125.50", fmt_local(when),
                                         "NULL"])
                self.rejected.append((PAYMENTS_CSV, pid, "orphan_payment", rfault[1]))
                self.fault_list.append(("orphan_payment", rfault[1], pid))
            for p in pending:
                p[0] -= 1
            for p in [p for p in pending if p[0] < 0]:
                self.emit(ORDERS_CSV, p[1])
                pending.remove(p)
        for p in pending:
            self.emit(ORDERS_CSV, p[1])
        if self.newer:
            # payments the legacy system recorded since the base export, then the new orders
            for o, typ, amt, when, ref in self.deferred_pays:
                row = self.add_payment(o, typ, amt, when, ref)
                self.emit(PAYMENTS_CSV, row)
            for j in range(self.n_new):
                o = self.build(n + j, self.random_scenario(new=True), new=True)
                self.new_ids.append(o.oid)
                self.emit_order(o)
        self.flush()
        self.write_products()
        for f in self.fh.values():
            f.close()
        self.write_expected()

    def evolve(self, o):
        """A later export: some orders moved on in the legacy system."""
        evo, c = self.evo, self.evo_counts
        if o.letter == "S" and o.plan != "codref" and (c["SD"] < 2 or evo.random() < 0.1):
            c["SD"] += 1
            self.change(o, "D")
            if o.method == "COD":
                o.plan = "coll"
                self.deferred_pays.append((o, "COD_COLL", o.total, o.local + timedelta(days=4, hours=3),
                                           f"ARAMEX-{evo.randrange(10**9)}"))
        elif o.letter == "D" and (c["DX"] < 2 or evo.random() < 0.03):
            c["DX"] += 1
            self.change(o, "X")
            full = evo.random() < 0.5
            o.plan = "full" if full else "partial"
            amt = o.total if full else max(1, o.total * evo.randrange(10, 90) // 100)
            self.deferred_pays.append((o, "RFND", amt, o.local + timedelta(days=25), f"R{evo.randrange(16**8):08X}"))
        elif o.letter == "P" and (c["PS"] < 2 or evo.random() < 0.1):
            c["PS"] += 1
            self.change(o, "S")
            for line in o.lines:
                if line[1] in self.shipped_ps:
                    self.shipped_ps[line[1]] += line[2]
            if o.method == "CC" and o.plan == "auth_only":
                o.plan = "auth_capt"
                self.deferred_pays.append((o, "CAPT", o.total, o.local + timedelta(days=1),
                                           f"T{evo.randrange(16**8):08X}"))

    def change(self, o, to):
        self.changes[str(o.oid)] = {"from": o.letter, "to": to}
        if o.letter in "NAP":
            for line in o.lines:
                if line[1] in self.base_reserved:
                    self.base_reserved[line[1]] += line[2]
        o.letter = to
        o.row[8] = to
        o.evolved = True

    def emit_order(self, o):
        self.emit(ORDERS_CSV, o.row)
        for row in o.item_rows:
            self.emit(ITEMS_CSV, row)
        for row in o.pay_rows:
            self.emit(PAYMENTS_CSV, row)
        if not o.good:
            self.rejected.append((o.rfile, o.oid, o.reason, o.variant))
            self.fault_list.append((o.reason, o.variant, o.oid))
            return
        self.accepted += 1
        self.by_letter[o.letter] += 1
        self.by_status[ORDER_STATUS[o.letter]] += 1
        self.totals[o.currency] = self.totals.get(o.currency, 0) + o.total
        if o.letter in "NAP":
            tgt = self.new_reserved if o.new else self.base_reserved
            for line in o.lines:
                if line[1] in self.reserved:
                    self.reserved[line[1]] += line[2]
                    tgt[line[1]] += line[2]
        if self.detail:
            self.kept.append(o)

    def write_products(self):
        w = self.w[PRODUCTS_CSV]
        self.on_hand = {}
        for sku, en, ar, _aed, _z in CATALOG:
            h = int(hashlib.sha256(f"{self.seed}:{sku}".encode()).hexdigest()[:4], 16) % 60
            base = 2 * self.base_reserved[sku] + 40 + h
            on_hand = base - self.shipped_ps[sku] + 2 * self.new_reserved[sku]
            self.on_hand[sku] = on_hand
            for cur in CATALOG_CURRENCIES:
                w.writerow([sku, en, ar, cur, plain_amount(self.prices[(sku, cur)], EXPONENT[cur]), str(on_hand)])
                self.rows[PRODUCTS_CSV] += 1

    # ---------------------------------------------------------------- expected.json

    def detail_of(self, o):
        pay_minor = {"authorized": 0, "captured": 0, "refunded": 0}
        for _pid, typ, amt, _d, _r in o.pays:
            if typ == "AUTH":
                pay_minor["authorized"] += amt
            elif typ == "CAPT" and o.method == "CC" or typ == "COD_COLL" and o.method == "COD":
                pay_minor["captured"] += amt
            elif typ == "RFND":
                pay_minor["refunded"] += amt
        return {
            "number": o.order_no,
            "customer_id": f"legacy-{o.cust_id}",
            "legacy": {"order_id": o.oid, "order_no": o.order_no, "customer_id": o.cust_id,
                       "customer_name": nfc(o.name)},
            "created_at": o.created,
            "currency": o.currency,
            "phone": o.phone,
            "country": o.country,
            "status": {"order": ORDER_STATUS[o.letter],
                       "payment": expected_payment_status(o.letter, o.method, o.plan),
                       "fulfilment": "returned" if o.plan == "codref" else FULFILMENT[o.letter]},
            "totals_minor": {"subtotal": o.sub, "tax": o.tax, "shipping": o.ship, "grand_total": o.total},
            "payment_minor": pay_minor,
            "lines": [{"sku": l[1], "quantity": l[2], "unit_price": l[3], "tax": l[4], "total": l[5]}
                      for l in o.lines],
            "ship_name": nfc(o.ship_name),
            "legacy_status": o.letter,
            "pay_method": o.method,
        }

    def checksum(self, o):
        arr = [CHECKSUM_TAG, o.oid, o.order_no, o.store, o.cust_id, nfc(o.name), o.phone, o.currency, o.created,
               o.letter, o.method, o.sub, o.tax, o.ship, o.total, nfc(o.ship_name), nfc(o.addr), nfc(o.city),
               o.country, [[l[0], l[1], l[2], l[3], l[4], l[5]] for l in sorted(o.lines)],
               [[p[0], p[1], p[2], p[3], nfc(p[4])] for p in sorted(o.pays, key=lambda p: p[0])]]
        return checksum_of(arr)

    def write_expected(self):
        rej_counts = {r: 0 for r in REASONS}
        for _f, _id, reason, _v in self.rejected:
            rej_counts[reason] += 1
        rejected_orders = sum(1 for r in self.rejected if r[2] not in ("orphan_item", "orphan_payment"))
        exp = {
            "generator": {"seed": self.seed, "orders": self.n, "encoding": self.encoding, "faults": self.faults,
                          "newer": self.newer, "files": self.layout,
                          "faults": [{"reason": r, "variant": v, "legacy_id": i} for r, v, i in self.fault_list]},
            "export": {"orders_rows": self.rows[ORDERS_CSV], "items_rows": self.rows[ITEMS_CSV],
                       "payments_rows": self.rows[PAYMENTS_CSV], "products_rows": self.rows[PRODUCTS_CSV]},
            "orders": {"accepted": self.accepted, "rejected": rejected_orders,
                       "duplicates_identical": self.dups_identical},
            "by_legacy_status": self.by_letter,
            "by_orderly_status": self.by_status,
            "totals_minor": {c: {"source": v} for c, v in sorted(self.totals.items())},
            "rejections": rej_counts,
            "rejected": [{"file": f, "legacy_id": i, "reason": r}
                         for f, i, r, _v in sorted(self.rejected, key=lambda x: (x[1], x[0]))],
            "stock": {s: {"on_hand": self.on_hand[s], "reserved": self.reserved[s]} for s in self.skus},
        }
        if self.detail:
            exp["checksums"] = {str(o.oid): self.checksum(o) for o in self.kept}
            exp["orders_detail"] = {str(o.oid): self.detail_of(o) for o in self.kept}
        if self.newer:
            exp["changes"] = {"changed": self.changes, "new": [str(i) for i in self.new_ids]}
        with open(os.path.join(self.out, "expected.json"), "w", encoding="utf-8") as f:
            json.dump(exp, f, ensure_ascii=False, indent=1)
            f.write("\n")


# ------------------------------------------------------------------------------------------------- verify
# A second implementation, from the files alone: nothing below uses the generator's model.

AMOUNT_RE = re.compile(r"^(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?$")
DATE_RE = re.compile(r"^(\d{2})/(\d{2})/(\d{4}) (\d{2}):(\d{2}):(\d{2})$")
INT_RE = re.compile(r"^-?\d+$")
DIGITS = {}
for _base in (0x0660, 0x06F0):
    for _k in range(10):
        DIGITS[chr(_base + _k)] = str(_k)


class Fault(Exception):
    def __init__(self, reason, file):
        super().__init__(reason)
        self.reason, self.file = reason, file


try:
    from zoneinfo import ZoneInfo
    ZONES = {s: ZoneInfo(z) for s, z in STORE_ZONE.items()}
except Exception:                                            # no tz database: the same fixed offsets
    ZONES = {s: timezone(timedelta(hours=h)) for s, h in STORE_OFFSET_H.items()}


def is_null(v):
    return v == "" or v == "NULL"


def v_amount(text, exp, file):
    m = AMOUNT_RE.match(text)
    if not m:
        raise Fault("bad_amount", file)
    frac = m.group(2) or ""
    if len(frac) > exp:
        raise Fault("bad_amount", file)
    return int(m.group(1).replace(",", "")) * 10 ** exp + int((frac + "0" * exp)[:exp] or "0")


def v_lenient(text):
    """An amount parsed as loosely as an importer might (extra decimals allowed): a Fraction, or None."""
    m = AMOUNT_RE.match(text)
    if not m:
        return None
    return Fraction(m.group(1).replace(",", "") + "." + (m.group(2) or "0"))


def v_date(text, store, file):
    m = DATE_RE.match(text)
    if not m:
        raise Fault("bad_date", file)
    d, mo, y, h, mi, s = map(int, m.groups())
    try:
        local = datetime(y, mo, d, h, mi, s, tzinfo=ZONES[store])
    except ValueError:
        raise Fault("bad_date", file) from None
    return local.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def v_phone(text, country):
    s = "".join(DIGITS.get(ch, ch) for ch in text if ch not in " -.()[]")
    if s.startswith("+"):
        digits = s[1:]
    elif s.startswith("00"):
        digits = s[2:]
    else:
        digits = CALLING[country] + (s[1:] if s.startswith("0") else s)
    if not digits.isascii() or not digits.isdigit() or not 8 <= len(digits) <= 15:
        raise AssertionError(f"phone {text!r} does not normalise to E.164")
    return "+" + digits


def read_csv(path, encoding):
    with open(path, "rb") as f:
        raw = f.read()
    bom = raw.startswith(b"\xef\xbb\xbf")
    if bom and encoding != "utf-8":
        raise AssertionError(f"{path}: a UTF-8 BOM in a {encoding} export")
    text = raw.decode("utf-8-sig" if encoding == "utf-8" else encoding)
    first = raw.split(b"\n", 1)[0]                              # the header: it holds no line break
    crlf = first.endswith(b"\r")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return rows[0], rows[1:], {"line_endings": "CRLF" if crlf else "LF", "bom": bom}


def verify(out, encoding):
    """Recompute expected.json from the four files; returns a list of differences (empty when all agree)."""
    with open(os.path.join(out, "expected.json"), encoding="utf-8") as f:
        exp = json.load(f)
    encoding = encoding or exp.get("generator", {}).get("encoding") or "cp1256"
    problems = []
    files = {}
    for name, cols in ((ORDERS_CSV, ORDER_COLS), (ITEMS_CSV, ITEM_COLS), (PAYMENTS_CSV, PAY_COLS),
                       (PRODUCTS_CSV, PROD_COLS)):
        header, rows, layout = read_csv(os.path.join(out, name), encoding)
        if header != cols:
            problems.append(f"{name}: header {header}")
        for r in rows:
            if len(r) != len(cols):
                problems.append(f"{name}: record of {len(r)} fields: {r[:2]}")
        files[name] = rows
        want = exp.get("generator", {}).get("files", {}).get(name)
        if want and want != layout:
            problems.append(f"{name}: layout {layout}, expected.json says {want}")
    orders_rows, item_rows, pay_rows, prod_rows = (files[ORDERS_CSV], files[ITEMS_CSV], files[PAYMENTS_CSV],
                                                   files[PRODUCTS_CSV])
    got = {"export": {"orders_rows": len(orders_rows), "items_rows": len(item_rows),
                      "payments_rows": len(pay_rows), "products_rows": len(prod_rows)}}

    # group
    by_id, dup_identical, conflict = {}, 0, set()
    for r in orders_rows:
        oid = int(r[0])
        if oid in by_id:
            if by_id[oid] == r:
                dup_identical += 1
            else:
                conflict.add(oid)
        else:
            by_id[oid] = r
    items, pays = {}, {}
    rejected = []
    for r in item_rows:
        oid = int(r[1])
        if oid not in by_id:
            rejected.append((ITEMS_CSV, int(r[0]), "orphan_item"))
        else:
            items.setdefault(oid, []).append(r)
    for r in pay_rows:
        oid = int(r[1])
        if oid not in by_id:
            rejected.append((PAYMENTS_CSV, int(r[0]), "orphan_payment"))
        else:
            pays.setdefault(oid, []).append(r)

    # products and stock
    on_hand = {}
    for sku, _en, _ar, cur, price, oh in prod_rows:
        v_amount(price, EXPONENT[cur.strip().upper()], PRODUCTS_CSV)
        if sku in on_hand and on_hand[sku] != int(oh):
            problems.append(f"PRODUCTS: ON_HAND of {sku} differs between currencies")
        on_hand[sku] = int(oh)
    reserved = {s: 0 for s in on_hand}

    by_letter = {c: 0 for c in LETTERS}
    by_status = {s: 0 for s in ORDERLY_STATUSES}
    totals, checksums, details = {}, {}, {}
    accepted = 0
    want_detail = "orders_detail" in exp
    for oid, r in by_id.items():
        if oid in conflict:
            rejected.append((ORDERS_CSV, oid, "duplicate_conflict"))
            continue
        its = sorted(items.get(oid, []), key=lambda x: int(x[0]))
        ps = sorted(pays.get(oid, []), key=lambda x: int(x[0]))
        try:
            res = check_order(r, its, ps)
        except Fault as f:
            rejected.append((f.file, oid, f.reason))
            continue
        except AssertionError as e:
            problems.append(f"order {oid}: {e}")
            continue
        accepted += 1
        letter = res["legacy_status"]
        by_letter[letter] += 1
        by_status[res["status"]["order"]] += 1
        cur = res["currency"]
        totals[cur] = totals.get(cur, 0) + res["totals_minor"]["grand_total"]
        if letter in "NAP":
            for line in res["lines"]:
                if line["sku"] in reserved:
                    reserved[line["sku"]] += line["quantity"]
        if want_detail:
            checksums[str(oid)] = res.pop("checksum")
            details[str(oid)] = res
    rej_counts = {r: 0 for r in REASONS}
    for _f, _i, reason in rejected:
        rej_counts[reason] += 1
    got["orders"] = {"accepted": accepted, "rejected": sum(1 for x in rejected if not x[2].startswith("orphan")),
                     "duplicates_identical": dup_identical}
    got["by_legacy_status"] = by_letter
    got["by_orderly_status"] = by_status
    got["totals_minor"] = {c: {"source": v} for c, v in sorted(totals.items())}
    got["rejections"] = rej_counts
    got["rejected"] = [{"file": f, "legacy_id": i, "reason": r} for f, i, r in sorted(rejected, key=lambda x: (x[1], x[0]))]
    got["stock"] = {s: {"on_hand": on_hand[s], "reserved": reserved[s]} for s in on_hand}
    for sku, st in got["stock"].items():
        if st["reserved"] >= st["on_hand"]:
            problems.append(f"stock of {sku}: reserved {st['reserved']} not below on_hand {st['on_hand']}")
    if want_detail:
        got["checksums"] = checksums
        got["orders_detail"] = details
    for key, val in got.items():
        if exp.get(key) != val:
            problems.extend(diff(key, exp.get(key), val))
    if "changes" in exp:
        ch = exp["changes"]
        for oid, c in ch["changed"].items():
            r = by_id.get(int(oid))
            if r is None or r[8].strip().upper() != c["to"] or c["from"] == c["to"]:
                problems.append(f"changes: {oid} {c} but the export has {r and r[8]}")
        base_max = max((i for i in by_id if str(i) not in ch["new"]), default=0)
        for oid in ch["new"]:
            if int(oid) not in by_id or int(oid) <= base_max:
                problems.append(f"changes: new order {oid} missing or not above the base ids")
    return problems


def diff(path, a, b, out=None, limit=20):
    out = [] if out is None else out
    if len(out) >= limit:
        return out
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if a.get(k, "<absent>") != b.get(k, "<absent>"):
                diff(f"{path}.{k}", a.get(k, "<absent>"), b.get(k, "<absent>"), out, limit)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for k, (x, y) in enumerate(zip(a, b)):
            if x != y:
                diff(f"{path}[{k}]", x, y, out, limit)
    else:
        out.append(f"{path}: expected.json has {a!r}, the files give {b!r}")
    return out


def check_order(r, its, ps):
    """One order as an importer sees it: raises Fault(reason, file), or returns its detail (and checksum).
    Every reason is looked for; more than one (or one only under lenient parsing) is a generator error."""
    found = []

    def attempt(fn, *a):
        try:
            return fn(*a)
        except Fault as f:
            found.append(f)
            return None

    def require(value, table, col, file):
        if is_null(value) and (table, col) not in NULLABLE:
            found.append(Fault("missing_field", file))
        return value

    o = dict(zip(ORDER_COLS, r))
    for col in ORDER_COLS:
        require(o[col], "ORDERS", col, ORDERS_CSV)
    for it in its:
        for col, v in zip(ITEM_COLS, it):
            require(v, "ORDER_ITEMS", col, ITEMS_CSV)
    for p in ps:
        for col, v in zip(PAY_COLS, p):
            require(v, "PAYMENTS", col, PAYMENTS_CSV)
    if found:
        if len(found) > 1:
            raise AssertionError(f"more than one null: {[f.file for f in found]}")
        raise found[0]
    store = o["STORE"].strip().upper()
    if store not in STORE_ZONE:
        raise AssertionError(f"unknown store {o['STORE']!r} (no reason code for it)")
    letter = o["STATUS"].strip().upper()
    method = o["PAY_METHOD"].strip().upper()
    if letter not in LETTERS or len(letter) != 1:
        found.append(Fault("bad_code", ORDERS_CSV))
    if method not in PAY_METHODS:
        found.append(Fault("bad_code", ORDERS_CSV))
    for p in ps:
        if p[2].strip().upper() not in PAY_TYPES:
            found.append(Fault("bad_code", PAYMENTS_CSV))
    cur = o["CURRENCY"].strip().upper()
    if cur not in EXPONENT:
        found.append(Fault("unknown_currency", ORDERS_CSV))
    country = COUNTRY_BY_UPPER.get(o["SHIP_COUNTRY"].strip().upper())
    if country is None:
        found.append(Fault("bad_country", ORDERS_CSV))
    created = attempt(v_date, o["ORDER_DATE"], store, ORDERS_CSV)
    pdates = [attempt(v_date, p[4], store, PAYMENTS_CSV) for p in ps]
    amounts = {}
    if cur in EXPONENT:
        exp = EXPONENT[cur]
        for col in ("SUBTOTAL", "TAX", "SHIPPING", "TOTAL"):
            amounts[col] = attempt(v_amount, o[col], exp, ORDERS_CSV)
        lines = []
        for it in its:
            q = it[3].strip()
            if not INT_RE.match(q) or int(q) <= 0:
                found.append(Fault("bad_quantity", ITEMS_CSV))
                q = None
            else:
                q = int(q)
            lines.append((int(it[0]), it[2], q, attempt(v_amount, it[4], exp, ITEMS_CSV),
                          attempt(v_amount, it[5], exp, ITEMS_CSV), attempt(v_amount, it[6], exp, ITEMS_CSV)))
        payl = [(int(p[0]), p[2].strip().upper(), attempt(v_amount, p[3], exp, PAYMENTS_CSV), d,
                 None if is_null(p[5]) else p[5]) for p, d in zip(ps, pdates)]
    reasons = {f.reason for f in found}
    if len(reasons) > 1:
        raise AssertionError(f"more than one reason: {sorted(reasons)}")
    if found:
        # unambiguous only if a lenient importer (extra decimals, fractional quantities) finds nothing else
        if reasons <= {"bad_amount", "bad_quantity"}:
            lenient_check(o, its, ps)
        if len({f.file for f in found}) > 1:
            raise AssertionError(f"{found[0].reason} in more than one file")
        raise found[0]
    if not its:
        raise Fault("no_items", ORDERS_CSV)
    sub = sum(l[2] * l[3] for l in lines)
    for l in lines:
        if l[2] * l[3] + l[4] != l[5]:
            raise AssertionError(f"item {l[0]}: LINE_TOTAL != QTY x UNIT_PRICE + LINE_TAX")
    line_tax = sum(l[4] for l in lines)
    if sub != amounts["SUBTOTAL"] or amounts["SUBTOTAL"] + amounts["TAX"] + amounts["SHIPPING"] != amounts["TOTAL"]:
        raise Fault("totals_mismatch", ORDERS_CSV)
    if amounts["TAX"] < line_tax:
        raise AssertionError("TAX below the lines' tax")
    auth = sum(p[2] for p in payl if p[1] == "AUTH")
    capt = sum(p[2] for p in payl if p[1] == ("CAPT" if method == "CC" else "COD_COLL"))
    rfnd = sum(p[2] for p in payl if p[1] == "RFND")
    n_rfnd = sum(1 for p in payl if p[1] == "RFND")
    if rfnd > capt:
        raise Fault("refund_exceeds_paid", PAYMENTS_CSV)
    for p in payl:
        if p[1] in ("CAPT", "AUTH") and method == "COD" or p[1] in ("COD_COLL", "COD_REF") and method == "CC":
            raise AssertionError(f"payment {p[0]} of type {p[1]} on a {method} order")
    codref = method == "COD" and any(p[1] == "COD_REF" for p in payl)
    # payment status: the contract's table and docs/migration.md
    if codref:
        pay_status = "cod_refused"
    elif letter in "RX":
        if n_rfnd == 0:
            pay_status = "captured" if method == "CC" else "cod_collected"
        else:
            pay_status = "refunded" if rfnd >= capt else "partially_refunded"
    elif method == "CC":
        has_capt = any(p[1] == "CAPT" for p in payl)
        has_auth = any(p[1] == "AUTH" for p in payl)
        pay_status = {"N": "pending", "A": "pending", "S": "captured", "D": "captured",
                      "P": "captured" if has_capt or not has_auth else "authorized",
                      "C": "refunded" if has_capt else "voided"}[letter]
    else:
        pay_status = {"D": "cod_collected", "C": "cod_cancelled"}.get(letter, "cod_pending")
    phone = None if is_null(o["CUST_PHONE"]) else v_phone(o["CUST_PHONE"], country)
    addr = None if is_null(o["SHIP_ADDR"]) else nfc(o["SHIP_ADDR"])
    arr = [CHECKSUM_TAG, int(o["ORDER_ID"]), o["ORDER_NO"], store, int(o["CUST_ID"]), nfc(o["CUST_NAME"]), phone,
           cur, created, letter, method, amounts["SUBTOTAL"], amounts["TAX"], amounts["SHIPPING"], amounts["TOTAL"],
           nfc(o["SHIP_NAME"]), addr, nfc(o["SHIP_CITY"]), country,
           [[l[0], nfc(l[1]), l[2], l[3], l[4], l[5]] for l in lines],
           [[p[0], p[1], p[2], p[3], nfc(p[4])] for p in payl]]
    if not re.match(r"^(DXB|RUH|JED|KWI)-\d{4}-\d{7}$", o["ORDER_NO"]) or o["ORDER_NO"][:3] != store:
        raise AssertionError(f"ORDER_NO {o['ORDER_NO']!r}")
    return {
        "number": o["ORDER_NO"],
        "customer_id": f"legacy-{int(o['CUST_ID'])}",
        "legacy": {"order_id": int(o["ORDER_ID"]), "order_no": o["ORDER_NO"], "customer_id": int(o["CUST_ID"]),
                   "customer_name": nfc(o["CUST_NAME"])},
        "created_at": created,
        "currency": cur,
        "phone": phone,
        "country": country,
        "status": {"order": ORDER_STATUS[letter], "payment": pay_status,
                   "fulfilment": "returned" if codref else FULFILMENT[letter]},
        "totals_minor": {"subtotal": amounts["SUBTOTAL"], "tax": amounts["TAX"], "shipping": amounts["SHIPPING"],
                         "grand_total": amounts["TOTAL"]},
        "payment_minor": {"authorized": auth, "captured": capt, "refunded": rfnd},
        "lines": [{"sku": nfc(l[1]), "quantity": l[2], "unit_price": l[3], "tax": l[4], "total": l[5]}
                  for l in lines],
        "ship_name": nfc(o["SHIP_NAME"]),
        "legacy_status": letter,
        "pay_method": method,
        "checksum": checksum_of(arr),
    }


def lenient_check(o, its, ps):
    """For a bad_amount / bad_quantity order: parsed leniently, do its totals and refunds still hold?"""
    vals = {c: v_lenient(o[c]) for c in ("SUBTOTAL", "TAX", "SHIPPING", "TOTAL")}
    if any(v is None for v in vals.values()):
        return                                                     # not a number: nothing else to check
    sub = Fraction(0)
    for it in its:
        try:
            q = Fraction(it[3])
        except ValueError:
            return
        p, t, tot = v_lenient(it[4]), v_lenient(it[5]), v_lenient(it[6])
        if None in (p, t, tot):
            return
        if q * p + t != tot:
            raise AssertionError(f"item {it[0]}: leniently parsed, LINE_TOTAL is wrong too")
        sub += q * p
    if its and (sub != vals["SUBTOTAL"] or vals["SUBTOTAL"] + vals["TAX"] + vals["SHIPPING"] != vals["TOTAL"]):
        raise AssertionError("leniently parsed, the totals do not add up either (two reasons)")
    method = o["PAY_METHOD"].strip().upper()
    paid = sum(v_lenient(p[3]) or 0 for p in ps if p[2].strip().upper() == ("CAPT" if method == "CC" else "COD_COLL"))
    refunded = sum(v_lenient(p[3]) or 0 for p in ps if p[2].strip().upper() == "RFND")
    if refunded > paid:
        raise AssertionError("leniently parsed, refunds exceed what was paid too (two reasons)")


# --------------------------------------------------------------------------------------------- self-check

def self_check():
    here = os.path.abspath(__file__)
    tmp = tempfile.mkdtemp(prefix="legacy-export-check-")
    failures = []

    def gen(name, *extra):
        d = os.path.join(tmp, name)
        os.makedirs(d)
        Generator(**parse_gen_args(["--out", d, *extra])).run()
        return d

    def files_of(d):
        out = {}
        for f in sorted(os.listdir(d)):
            with open(os.path.join(d, f), "rb") as fh:
                out[f] = fh.read()
        return out

    try:
        runs = {
            "default": gen("default", "--seed", "1"),
            "again": gen("again", "--seed", "1"),
            "utf8": gen("utf8", "--seed", "1", "--encoding", "utf-8"),
            "newer": gen("newer", "--seed", "1", "--newer"),
            "newer_utf8": gen("newer_utf8", "--seed", "7", "--orders", "300", "--encoding", "utf-8", "--newer"),
            "base_utf8": gen("base_utf8", "--seed", "7", "--orders", "300", "--encoding", "utf-8"),
            "clean": gen("clean", "--seed", "3", "--orders", "500", "--no-faults"),
            "seed2": gen("seed2", "--seed", "2", "--orders", "45"),
        }
        for name, d in runs.items():
            probs = verify(d, None)
            print(f"verify {name}: {'ok' if not probs else 'FAILED'}")
            failures += [f"{name}: {p}" for p in probs]
        if files_of(runs["default"]) != files_of(runs["again"]):
            failures.append("the same arguments gave different files")
        for base, newer in (("default", "newer"), ("base_utf8", "newer_utf8")):
            failures += compare_base(runs[base], runs[newer])
        print(f"newer keeps its base: {'ok' if not failures else 'see failures'}")
    finally:
        shutil.rmtree(tmp)
    for f in failures:
        print("FAIL", f)
    print("self-check", "FAILED" if failures else "ok", f"({here})")
    return 1 if failures else 0


def compare_base(base_dir, newer_dir):
    """A newer export holds every base record unchanged, except the STATUS of the orders listed as changed and
    new payment records of those orders; new orders only add records."""
    out = []
    with open(os.path.join(newer_dir, "expected.json"), encoding="utf-8") as f:
        changes = json.load(f)["changes"]
    with open(os.path.join(base_dir, "expected.json"), encoding="utf-8") as f:
        enc = json.load(f)["generator"]["encoding"]
    new_ids, changed = set(changes["new"]), changes["changed"]
    if not new_ids or not changed:
        out.append("newer: no new or no changed orders")
    kinds = {(c["from"], c["to"]) for c in changed.values()}
    if kinds != {("S", "D"), ("D", "X"), ("P", "S")}:
        out.append(f"newer: changes of kinds {sorted(kinds)}")
    for name in (ORDERS_CSV, ITEMS_CSV, PAYMENTS_CSV):
        _h, base, _l = read_csv(os.path.join(base_dir, name), enc)
        _h, newer, _l = read_csv(os.path.join(newer_dir, name), enc)
        kept = [r for r in newer if r[0 if name == ORDERS_CSV else 1] not in new_ids]
        if name == ORDERS_CSV:
            if len(kept) != len(base):
                out.append(f"{name}: {len(kept)} base records in the newer export, {len(base)} in the base")
            for a, b in zip(kept, base):
                c = changed.get(a[0])
                if c:
                    if a[:8] + a[9:] != b[:8] + b[9:] or a[8] != c["to"] or b[8].strip().upper() != c["from"]:
                        out.append(f"{name}: order {a[0]} is not its base record with {c}")
                elif a != b:
                    out.append(f"{name}: order {a[0]} changed but is not listed in changes")
        else:
            if kept[:len(base)] != base:
                out.append(f"{name}: base records changed in the newer export")
            for r in kept[len(base):]:
                if r[1] not in changed:
                    out.append(f"{name}: new record {r[0]} for unchanged order {r[1]}")
    return out


# ---------------------------------------------------------------------------------------------------- cli

def parse_gen_args(argv):
    p = argparse.ArgumentParser(prog="legacy_export.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", metavar="DIR")
    p.add_argument("--orders", type=int, default=60, metavar="N")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--encoding", choices=("cp1256", "utf-8"), default=None,
                   help="default cp1256; for --verify, the one expected.json names")
    p.add_argument("--faults", dest="faults", action="store_true", default=True)
    p.add_argument("--no-faults", dest="faults", action="store_false")
    p.add_argument("--newer", action="store_true")
    p.add_argument("--verify", metavar="DIR")
    p.add_argument("--self-check", action="store_true")
    a = p.parse_args(argv)
    if a.verify or a.self_check:
        return a
    if not a.out:
        p.error("--out DIR is required")
    minimum = len(ORDER_FAULTS) + len(ROW_FAULTS) + 1 if a.faults else 1
    if a.orders < minimum:
        p.error(f"--orders must be at least {minimum}" + (" with --faults" if a.faults else ""))
    os.makedirs(a.out, exist_ok=True)
    return {"seed": a.seed, "n": a.orders, "encoding": a.encoding or "cp1256", "faults": a.faults, "newer": a.newer,
            "out": a.out}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    a = parse_gen_args(argv)
    if isinstance(a, argparse.Namespace):
        if a.self_check:
            return self_check()
        t0 = time.monotonic()
        probs = verify(a.verify, a.encoding)
        if probs:
            print(f"verify {a.verify}: {len(probs)} difference(s) with expected.json", file=sys.stderr)
            for p in probs[:50]:
                print("  " + p, file=sys.stderr)
            return 1
        print(f"verify {a.verify}: ok ({time.monotonic() - t0:.1f} s)")
        return 0
    t0 = time.monotonic()
    g = Generator(**a)
    g.run()
    print(f"{a['out']}: {g.rows[ORDERS_CSV]} orders, {g.rows[ITEMS_CSV]} items, {g.rows[PAYMENTS_CSV]} payments, "
          f"{g.rows[PRODUCTS_CSV]} products; {g.accepted} accepted, "
          f"{sum(1 for r in g.rejected if not r[2].startswith('orphan'))} rejected "
          f"({time.monotonic() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
