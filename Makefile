# Entry points; the logic lives in scripts/ so CI and people run the same thing.
.PHONY: run test lint fmt openapi image

run:
	cargo run

test:
	scripts/test.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets --locked -- -D warnings
	hadolint Dockerfile
	docker-compose config -q

fmt:
	cargo fmt --all

image:
	scripts/build-image.sh

openapi:
	UPDATE_OPENAPI=1 cargo test --test openapi
