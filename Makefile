# Entry points; the logic lives in scripts/ so CI and people run the same thing.
.PHONY: run test lint fmt openapi

run:
	cargo run

test:
	scripts/test.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets --locked -- -D warnings

fmt:
	cargo fmt --all

openapi:
	UPDATE_OPENAPI=1 cargo test --test openapi
