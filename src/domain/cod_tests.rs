use time::macros::datetime;
use uuid::Uuid;

use super::*;

fn order(number: &str, tracking: &str, collected: i64, remitted: i64) -> Collected {
    Collected {
        order_id: Uuid::now_v7(),
        order_number: number.into(),
        tracking_numbers: vec![tracking.into()],
        currency: Currency::Kwd,
        collected_minor: collected,
        collected_at: datetime!(2026-11-01 10:00 UTC),
        remitted_minor: remitted,
    }
}

fn remittance(lines: Vec<LineIn>, deductions: Vec<i64>) -> RemittanceIn {
    RemittanceIn {
        courier: "Aramex".into(),
        reference: "R1".into(),
        remitted_at: datetime!(2026-11-05 10:00 UTC),
        currency: Currency::Kwd,
        lines,
        deductions: deductions
            .into_iter()
            .map(|amount_minor| Deduction {
                kind: DeductionKind::Fee,
                amount_minor,
                order_number: None,
            })
            .collect(),
    }
}

fn by_number(n: &str, amount_minor: i64) -> LineIn {
    LineIn {
        key: LineKey::OrderNumber(n.into()),
        amount_minor,
    }
}

#[test]
fn each_line_gets_its_result_and_the_sums_add_up() {
    let orders = [
        order("A", "TA", 1000, 0),
        order("B", "TB", 2000, 0),
        order("C", "TC", 3000, 0),
        order("D", "TD", 4000, 4000),
    ];
    let lines = vec![
        by_number("A", 1000),
        LineIn {
            key: LineKey::TrackingNumber("TB".into()),
            amount_minor: 1500,
        },
        by_number("C", 3500),
        by_number("Z", 700),
        by_number("D", 4000),
        by_number("A", 1000),
    ];
    let r = settle(Uuid::now_v7(), remittance(lines, vec![250, 50]), &orders).unwrap();
    let results: Vec<LineResult> = r.lines.iter().map(|l| l.result).collect();
    use LineResult::*;
    assert_eq!(results, [Matched, Short, Excess, Unknown, Duplicate, Duplicate]);
    assert_eq!(r.lines[1].order_number.as_deref(), Some("B"));
    assert_eq!(r.lines[0].tracking_number.as_deref(), Some("TA"));
    assert_eq!(
        r.sums,
        Sums {
            remitted: 1000 + 1500 + 3500 + 700 + 4000 + 1000,
            expected: 1000 + 2000 + 3000,
            deductions: 300,
            net: 11_700 - 300,
            difference: 11_700 - 6000,
        }
    );
}

#[test]
fn a_shortfall_paid_later_is_matched_against_what_is_left() {
    let orders = [order("A", "TA", 1000, 600)];
    let r = settle(Uuid::now_v7(), remittance(vec![by_number("A", 400)], vec![]), &orders).unwrap();
    assert_eq!(r.lines[0].result, LineResult::Matched);
    assert_eq!(r.lines[0].expected_minor, Some(400));
}

#[test]
fn an_order_in_another_currency_is_refused_naming_the_line() {
    let mut o = order("A", "TA", 1000, 0);
    o.currency = Currency::Aed;
    let err = settle(Uuid::now_v7(), remittance(vec![by_number("A", 1000)], vec![]), &[o]).unwrap_err();
    assert_eq!(err[0].line, 0);
    assert_eq!(err[0].order_currency, Currency::Aed);
}

#[test]
fn ages_fall_into_their_buckets() {
    let as_of = datetime!(2026-12-01 00:00 UTC);
    assert_eq!(age_days(datetime!(2026-11-30 23:00 UTC), as_of), 0);
    assert_eq!(age_days(datetime!(2026-12-02 00:00 UTC), as_of), 0);
    for (days, b) in [(0, 0), (7, 0), (8, 1), (14, 1), (15, 2), (30, 2), (31, 3), (400, 3)] {
        assert_eq!(bucket(days), b, "{days}");
    }
}

#[test]
fn outstanding_groups_by_courier_and_leaves_out_what_is_paid() {
    let as_of = datetime!(2026-11-20 10:00 UTC);
    let orders = vec![
        ("Aramex".to_owned(), order("A", "TA", 1000, 0)),
        ("Aramex".to_owned(), order("B", "TB", 2000, 2000)),
        ("Aramex".to_owned(), order("C", "TC", 3000, 1000)),
        ("DHL".to_owned(), order("D", "TD", 500, 0)),
    ];
    let groups = outstanding(&orders, as_of);
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].buckets, [0, 0, 3000, 0]);
    assert_eq!(groups[0].orders.len(), 2);
    assert_eq!(groups[0].orders[0].age_days, 19);
    assert_eq!(groups[1].courier, "DHL");
}

#[test]
fn refusal_rates_are_in_basis_points_rounded_half_up() {
    let s = |courier: &str, refused: bool| ShippedCod {
        courier: courier.into(),
        shipped_at: datetime!(2026-11-01 10:00 UTC),
        refused,
    };
    let rates = refusal_rates(&[s("A", true), s("A", false), s("A", false), s("B", false)]);
    assert_eq!(rates[0].refusal_rate_bp, 3333);
    assert_eq!((rates[0].shipped, rates[0].refused), (3, 1));
    assert_eq!(rates[1].refusal_rate_bp, 0);
    let two_of_three = refusal_rates(&[s("A", true), s("A", true), s("A", false)]);
    assert_eq!(two_of_three[0].refusal_rate_bp, 6667);
}
