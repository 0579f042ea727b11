"""Test data for scripts/schemathesis.sh (loaded through SCHEMATHESIS_HOOKS).

A generated order names random SKUs, currencies and countries, so it almost never meets the catalog the script
seeds, and without a placed order the stateful phase has nothing to follow its links from. For schema-valid
(positive) orders only, this points the lines at the seeded SKUs (each once), the currency at one they are priced
in and the country at one with a VAT rate. The order stays schema-valid; negative cases are left alone, so what
the server must refuse is still sent as generated.
"""

import schemathesis
from schemathesis import GenerationMode

SKUS = ["OUD-ROYAL-12ML", "MUSK-TAHARA-6ML", "BAKHOOR-50G"]
CURRENCIES = ["KWD", "BHD", "OMR", "AED", "SAR", "QAR"]
COUNTRIES = ["KW", "BH", "OM", "AE", "SA", "QA"]


def _pick(options, seed):
    return options[len(str(seed)) % len(options)]


@schemathesis.hook
def map_case(context, case):
    meta = getattr(case, "meta", None)
    positive = meta is not None and meta.generation.mode == GenerationMode.POSITIVE
    if not positive or case.method.upper() != "POST" or case.path != "/v1/orders" or not isinstance(case.body, dict):
        return case
    body = case.body
    lines = body.get("lines")
    ship_to = body.get("ship_to")
    if not isinstance(lines, list) or not lines or not isinstance(ship_to, dict):
        return case
    body["lines"] = [dict(line, sku=sku) for line, sku in zip(lines, SKUS) if isinstance(line, dict)]
    body["currency"] = _pick(CURRENCIES, body.get("currency"))
    ship_to["country"] = _pick(COUNTRIES, ship_to.get("name"))
    return case
