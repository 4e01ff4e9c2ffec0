# syntax=docker/dockerfile:1
# Gatehouse image: used by both the `api` and the `worker` services in compose.yaml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv

# uv pinned to the version that wrote uv.lock.
RUN pip install --no-cache-dir "uv==0.13.9"

WORKDIR /app

# Dependencies first (cached layer): exactly uv.lock, without the dev group.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project

# Application code.
COPY . .
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev

RUN useradd --system --uid 10001 --home-dir /app --no-create-home gatehouse \
    && mkdir -p /app/var \
    && chown -R gatehouse /app/var
USER gatehouse
ENV UV_CACHE_DIR=/tmp/uv-cache

EXPOSE 8000

CMD ["uv", "run", "--no-sync", "uvicorn", "app:create_app", "--factory", \
     "--host", "0.0.0.0", "--port", "8000", "--proxy-headers", "--no-server-header", \
     "--http", "resolvers.http.slow_clients:HeaderDeadlineProtocol", \
     "--timeout-graceful-shutdown", "20"]
