# The two commands (see README): `make demo` and `make test`. Both set up a fresh machine first.
.PHONY: setup test demo bench

setup:
	bash scripts/setup.sh

test: setup
	bash scripts/test.sh

# `make demo` opens JupyterLab on 127.0.0.1 with notebooks/quickstart.ipynb;
# `make demo HEADLESS=1` runs it in headless JupyterLab + Chromium and writes the exported PNG, SVG and
# offline HTML (checked, and the HTML opened from file:// with no network request) plus screenshots.
demo: setup
	.venv/bin/python scripts/demo.py $(if $(HEADLESS),--headless,)

bench: setup
	.venv/bin/python bench/run.py
