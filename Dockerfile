# syntax=docker/dockerfile:1

# --- build: wheels for every pinned dependency -------------------------------------------
FROM python:3.13-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /build
COPY requirements.txt .
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install -r requirements.txt
# The translations' .mo files are built, not committed (compilemessages runs this same msgfmt).
RUN apt-get update && apt-get install -y --no-install-recommends gettext && rm -rf /var/lib/apt/lists/*
COPY locale locale
RUN find locale -name '*.po' -exec sh -c 'msgfmt --check-format -o "${1%.po}.mo" "$1"' _ {} \;

# The dependencies are installed with their bytecode, and the project's own is compiled below:
# with PYTHONDONTWRITEBYTECODE, a process would otherwise compile every module it imports
# (about 2 s of each gunicorn worker's, worker's or command's start).

# --- runtime ------------------------------------------------------------------------------
FROM python:3.13-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH="/opt/venv/bin:$PATH" \
    DJANGO_ENV=production \
    PORT=8000
RUN groupadd --system app && useradd --system --gid app --home-dir /app --no-create-home app
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=app:app . .
COPY --from=build --chown=app:app /build/locale /app/locale
# collectstatic needs no real secret or database: throwaway values satisfy the production
# guard at build time only; the container gets the real ones from its environment.
RUN SECRET_KEY=build-only ALLOWED_HOSTS=build DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    python manage.py collectstatic --noinput \
 && python -m compileall -q apps bookstore \
 && chown -R app:app /app/staticfiles
USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8000\")}/healthz', timeout=4)"
# gunicorn's settings (bind on PORT, WEB_CONCURRENCY workers, the 30 s timeout above what a
# request waits on the database, its own 414/431/400 answers as problem details) are in
# bookstore/gunicorn_conf.py.
CMD ["gunicorn", "-c", "python:bookstore.gunicorn_conf", "bookstore.wsgi:application"]
