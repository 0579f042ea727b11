use super::*;

#[test]
fn every_code_is_unique_and_snake_case() {
    let mut seen = std::collections::BTreeSet::new();
    for code in Code::ALL {
        assert!(seen.insert(code.as_str()), "{code} declared twice");
        assert!(code.as_str().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        assert!(code.status().is_client_error() || code.status().is_server_error());
    }
}

#[test]
fn server_failures_carry_their_cause_to_the_log_but_not_to_the_client() {
    let response = ApiError::internal("disk on fire").into_response();
    let log = response.extensions().get::<ErrorLog>().cloned();
    assert_eq!(log.and_then(|l| l.cause).as_deref(), Some("disk on fire"));
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let problem = ApiError::internal("disk on fire").problem();
    assert!(!problem.detail.contains("disk"));
}

#[test]
fn a_long_error_list_is_cut_at_fifty_with_the_rest_counted() {
    let errors = |n: usize| {
        (0..n)
            .map(|i| FieldError {
                pointer: format!("/lines/{i}/sku"),
                detail: "bad".into(),
            })
            .collect::<Vec<_>>()
    };
    let problem = ApiError::Validation(errors(1_800)).problem();
    assert_eq!(problem.errors, errors(MAX_LISTED_ERRORS));
    assert_eq!(problem.errors_not_listed, Some(1_750));
    assert!(problem.detail.starts_with("1800 fields are invalid"));
    let exact = ApiError::Validation(errors(MAX_LISTED_ERRORS)).problem();
    assert_eq!(exact.errors.len(), MAX_LISTED_ERRORS);
    assert_eq!(exact.errors_not_listed, None);
}
