# The control plane. Asterisk runs in its own container, so this one starts
# with `pbx up --no-asterisk`, which applies the migrations before serving.
FROM python:3.11-slim-bookworm

# Editable install from /app on purpose: pbx finds migrations/ and dialplans/
# beside its package (pbx.config.SOURCE_DIR); a plain `pip install .` would put
# the package in site-packages, away from them, and the migrations would be lost.
WORKDIR /app
# README.m[d]: the glob lets the build go on if the README is absent (pyproject names it).
COPY pyproject.toml README.m[d] ./
COPY pbx/ pbx/
COPY migrations/ migrations/
COPY dialplans/ dialplans/
RUN pip install --no-cache-dir -e .

# `pbx up` writes Asterisk's configuration into the shared instance volume before
# the API serves, so "healthy" also means "Asterisk's configuration is written".
CMD ["pbx", "up", "--no-asterisk"]
