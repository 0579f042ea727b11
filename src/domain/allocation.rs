//! Spreading one amount over parts by the largest-remainder method, so the parts add up to the whole exactly.
//!
//! Used wherever an order-level amount (tax, shipping, a refund) must be shown per line: each part gets the floor
//! of its proportional share, and the minor units left over go one each to the parts with the largest remainders
//! (ties go to the earlier part, so the result is deterministic).

/// Splits `total` (>= 0) over `weights` (each >= 0) in proportion. With all weights zero the split is even.
/// Returns one share per weight; the shares are non-negative and sum to exactly `total`.
pub fn allocate(total: i64, weights: &[i64]) -> Vec<i64> {
    if weights.is_empty() {
        return Vec::new();
    }
    let total = i128::from(total.max(0));
    let clean: Vec<i128> = weights.iter().map(|w| i128::from((*w).max(0))).collect();
    let weight_sum: i128 = clean.iter().sum();
    let (weights, weight_sum) = if weight_sum == 0 {
        (vec![1i128; clean.len()], clean.len() as i128)
    } else {
        (clean, weight_sum)
    };

    let mut shares = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    for (index, w) in weights.iter().enumerate() {
        let exact = total * w;
        shares.push(exact / weight_sum);
        remainders.push((exact % weight_sum, index));
    }
    let handed_out: i128 = shares.iter().sum();
    let mut left = total - handed_out;
    // Largest remainder first; equal remainders keep their original order.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, index) in remainders {
        if left == 0 {
            break;
        }
        shares[index] += 1;
        left -= 1;
    }
    // Each share is at most `total`, which came from an i64, so the conversion cannot fail.
    shares
        .into_iter()
        .map(|s| i64::try_from(s).unwrap_or(i64::MAX))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn splits_a_fils_remainder_to_the_largest_fraction() {
        // 100 over three equal parts: 34 33 33, the first part wins the tie.
        assert_eq!(allocate(100, &[1, 1, 1]), vec![34, 33, 33]);
        // 10 over 1:2 gives 3.33 / 6.67: the larger remainder takes the spare unit.
        assert_eq!(allocate(10, &[1, 2]), vec![3, 7]);
    }

    #[test]
    fn zero_weights_split_evenly() {
        assert_eq!(allocate(5, &[0, 0]), vec![3, 2]);
    }

    #[test]
    fn nothing_to_split_gives_zeros() {
        assert_eq!(allocate(0, &[5, 7]), vec![0, 0]);
        assert!(allocate(7, &[]).is_empty());
    }

    proptest! {
        #[test]
        fn never_gains_or_loses_a_minor_unit(total in 0i64..10_000_000_000, weights in prop::collection::vec(0i64..1_000_000_000, 1..40)) {
            let shares = allocate(total, &weights);
            prop_assert_eq!(shares.len(), weights.len());
            prop_assert_eq!(shares.iter().sum::<i64>(), total);
            prop_assert!(shares.iter().all(|s| *s >= 0));
        }

        #[test]
        fn each_share_is_within_one_unit_of_its_exact_proportion(total in 0i64..1_000_000_000, weights in prop::collection::vec(1i64..1_000_000, 1..20)) {
            let shares = allocate(total, &weights);
            let sum: i128 = weights.iter().map(|w| i128::from(*w)).sum();
            for (share, w) in shares.iter().zip(&weights) {
                let exact_floor = i128::from(total) * i128::from(*w) / sum;
                let s = i128::from(*share);
                prop_assert!(s == exact_floor || s == exact_floor + 1);
            }
        }
    }
}
