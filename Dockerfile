# syntax=docker/dockerfile:1
# MAIS: front-end assets built with npm, Python dependencies installed from the hash-locked file, then a slim
# runtime image with neither compilers nor secrets, running gunicorn as a non-root user.

FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY frontend/ frontend/
RUN mkdir -p static/dist && npm run build

FROM python:3.12-slim-bookworm AS python
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY requirements/base.lock /tmp/base.lock
# --no-deps: the lock already holds every dependency, so pip installs it as it is and resolves nothing (a dependency
# asked for with extras would otherwise fail the hash check, pypa/pip#9644); pip check proves nothing is missing.
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --require-hashes --no-deps -r /tmp/base.lock \
    && /opt/venv/bin/pip check

FROM python:3.12-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MAIS_PRODUCTION=1
RUN groupadd --system --gid 10001 mais && useradd --system --uid 10001 --gid mais --home-dir /app --shell /usr/sbin/nologin mais
WORKDIR /app
COPY --from=python /opt/venv /opt/venv
COPY . /app
COPY --from=assets /build/static/dist /app/static/dist
# collectstatic reads settings; these throwaway values exist only for this build step and are not kept in the image.
RUN MAIS_PRODUCTION=0 MAIS_SECRET_KEY=collectstatic-only DATABASE_URL=postgres://build@localhost/unused \
    python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p /app/var && chown mais:mais /app/var
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health/', timeout=4).status == 200 else 1)"]
CMD ["gunicorn", "--config", "gunicorn.conf.py", "mais.wsgi:application"]
