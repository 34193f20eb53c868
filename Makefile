# Two commands do all set-up on a fresh machine:  `make run`  and  `make test`.
# The virtual environment lives in .venv; it is created and filled on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Tests and CI pin the CPU build that this team's machines carry; users get whatever
# torch fits their hardware through pyproject's open range (`make run` does not pin).
TORCH_PIN ?= torch==2.13.0
ARGS ?=

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# The tests also validate the menu entry with desktop-file-validate (Debian's desktop-file-utils):
# installed here when missing and this is a root shell with apt, as on CI; otherwise say how.
$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	@command -v desktop-file-validate >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& apt-get install -y -q desktop-file-utils >/dev/null; } \
		|| echo "note: install desktop-file-utils (sudo apt-get install desktop-file-utils) for the menu-entry test"
	$(BIN)/python -m pip install --quiet "$(TORCH_PIN)"
	$(BIN)/python -m pip install --quiet -e ".[test]" "$(TORCH_PIN)"
	touch $@ $(VENV)/.installed-run

# First: the system libraries Qt's window needs (Linux, X11). When some are missing this prints
# the apt line that installs them and stops; it installs nothing itself.
run: $(VENV)/.installed-run
	@$(BIN)/python tools/check_qt_libs.py $(ARGS)
	$(BIN)/python main.py $(ARGS)

# The lines the tools hold: style (ruff), package boundaries (import-linter), types (mypy).
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python tools/lint_imports.py
	$(BIN)/python tools/typecheck.py

test: lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(ARGS)

bench: $(VENV)/.installed-test
	$(BIN)/python bench/engine_throughput.py
	$(BIN)/python bench/recording_bench.py
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/window_bench.py
	$(BIN)/python bench/insights_bench.py
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/insights_window.py
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/pace_bench.py
	$(BIN)/python bench/lesson_timing.py
	$(BIN)/python bench/scenario_seeds.py
	$(BIN)/python bench/hint_false_alarms.py
	$(BIN)/python bench/launch_timeline.py
	PYTHONPATH=. $(BIN)/python bench/gpu_check.py

clean:
	rm -rf $(VENV)
