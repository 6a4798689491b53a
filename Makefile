# The two commands: `make run` (the whole suite) and `make test` (the default test suite).
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bootstrap lint typecheck client-test pytest deploy-check asyncapi bench down status clean

run: bootstrap
	$(BIN)/callisto up

test: bootstrap lint typecheck client-test pytest

bootstrap:
	@scripts/bootstrap.sh

lint:
	$(BIN)/ruff check .

typecheck:
	$(BIN)/mypy libs/protocol/src libs/runtime/src libs/backup/src libs/devkit/src libs/sip/src services/core-bus/src services/auth/src services/queue-manager/src services/call-manager/src services/helpdesk/src services/snitch/src services/recording/src services/dialer/src

client-test:
	cd clients/operator && npm test --silent

pytest:
	$(BIN)/pytest -q --timeout=300

# the deployment files with their validators (Compose v2, promtool, helm and kubernetes-validate,
# Pacemaker's own tools); also part of pytest
deploy-check: bootstrap
	$(BIN)/pytest -q tests/test_deploy_files.py tests/test_alert_rules.py tests/test_grafana_boards.py \
		tests/test_helm_chart.py tests/test_pacemaker_pair.py

asyncapi: bootstrap
	$(BIN)/python -m callisto_protocol.asyncapi docs/asyncapi.json

bench: bootstrap
	$(BIN)/python bench/bus.py
	$(BIN)/python bench/sip_parse.py
	$(BIN)/python bench/auth.py
	$(BIN)/python bench/acd.py
	$(BIN)/python bench/sip.py
	$(BIN)/python bench/helpdesk.py
	$(BIN)/python bench/snitch.py
	$(BIN)/python bench/failover.py
	$(BIN)/python bench/webrtc.py
	$(BIN)/python bench/operator_client.py
	$(BIN)/python bench/desk.py
	$(BIN)/python bench/recording.py
	$(BIN)/python bench/backup.py
	$(BIN)/python bench/dialer.py

status:
	$(BIN)/callisto status

down:
	$(BIN)/callisto down

clean: down
	rm -rf .callisto
