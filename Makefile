# Entry points; the logic lives in scripts/ so CI and people run the same thing.
.PHONY: run test lint fmt openapi image rehearse chaos check-pipeline bench bench-quick bench-import bench-scale bench-console

run:
	cargo run

test:
	scripts/test.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets --locked -- -D warnings
	PATH="$(CURDIR)/.venv/bin:$$PATH" hadolint Dockerfile
	docker-compose config -q

fmt:
	cargo fmt --all

image:
	scripts/build-image.sh

# Zero-downtime rolling update and both canary verdicts, on the local Docker engine (about 2 minutes).
rehearse:
	scripts/rehearse.sh

# Six failure scenarios under load (replica, leader and NATS killed, a switchover, a partition, SQLite killed), each
# checked against every answer the clients got (about 4 minutes, as root): docs/operations.md, "Failure scenarios".
chaos:
	PATH="$$(scripts/deps.sh | tail -n1):$$PATH" scripts/chaos/run.sh

check-pipeline:
	scripts/check-pipeline.sh

# Orderly against pgbench on the same statements (not part of the tests): results in bench/RESULTS.md.
bench:
	bench/deps.sh
	python3 bench/bench.py full

bench-quick:
	bench/deps.sh
	python3 bench/bench.py quick

# A million orders against the same measurements at 100,000 in one run: throughput, search and get latency, the CSV
# export (not part of the tests; about 20 minutes): results in bench/RESULTS.md.
bench-scale:
	bench/deps.sh
	python3 bench/scale.py

# The console's order page (50 events) against the API's JSON of the same order, server time per request (not part
# of the tests; about a minute once the release binary is built): results in bench/RESULTS.md.
bench-console:
	bench/deps.sh
	python3 bench/console.py

# The legacy import of a million orders against PostgreSQL's own COPY of the same rows, and into SQLite (not part of
# the tests; about 20 min, plus ~70 s once to generate the export, cached under /tmp): results in bench/RESULTS.md.
# BENCH_IMPORT_ORDERS=50000 for a quick run.
bench-import:
	bench/deps.sh
	python3 bench/import.py

openapi:
	UPDATE_OPENAPI=1 cargo test --test openapi
