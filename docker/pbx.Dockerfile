# The control plane. Asterisk runs in its own container, so this one starts
# with `pbx up --no-asterisk`, which applies the migrations before serving.
FROM python:3.11-slim-bookworm

# The uid Asterisk's image runs as (docker/asterisk.Dockerfile): both write the
# shared instance volume, whose files hold secrets and are 0600.
ARG PBX_UID=10001
RUN groupadd --gid "$PBX_UID" pbx \
    && useradd --uid "$PBX_UID" --gid "$PBX_UID" --home-dir /srv/pbx --no-create-home \
        --shell /usr/sbin/nologin pbx

# Editable install from /app on purpose: pbx finds migrations/ and dialplans/
# beside its package (pbx.config.SOURCE_DIR); a plain `pip install .` would put
# the package in site-packages, away from them, and the migrations would be lost.
WORKDIR /app
# The dependencies first, in a layer that only pyproject.toml changes: a code change
# rebuilds the small layers below, not this one.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt
# README.m[d]: the glob lets the build go on if the README is absent (pyproject names it).
COPY pyproject.toml README.m[d] ./
COPY pbx/ pbx/
COPY migrations/ migrations/
COPY dialplans/ dialplans/
# Compiled now: at run time /app belongs to root, and the runtime user could not cache
# bytecode, so every start would compile the whole package again.
RUN pip install --no-cache-dir --no-deps -e . \
    && python -m compileall -q pbx migrations

# Where the compose file mounts its volumes, owned by the runtime user so that fresh
# named volumes start out writable by it (Docker copies this ownership into them).
RUN mkdir -p /srv/pbx/data/asterisk/spool/recordings /srv/pbx/audio /srv/pbx/recordings /srv/pbx/keys \
    && chown -R pbx:pbx /srv/pbx

USER pbx
ENV PYTHONUNBUFFERED=1
# `pbx up` writes Asterisk's configuration into the shared instance volume before
# the API serves, so "healthy" also means "Asterisk's configuration is written".
CMD ["pbx", "up", "--no-asterisk"]
