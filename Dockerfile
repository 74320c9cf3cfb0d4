# syntax=docker/dockerfile:1
# One image for the voting service, the flusher, the admin service and one-shot commands (migrations).
# Python 3.11: every dependency ships a cp311 manylinux wheel, so no compiler is needed.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, in their own layer (rebuilt only when pyproject.toml changes): install the project
# with empty package directories, then drop the project itself but keep its dependencies.
COPY pyproject.toml ./
RUN mkdir -p shared voting_service admin_service && touch README.md \
    && pip install . \
    && pip uninstall -y new-faces-vote \
    && rm -rf shared voting_service admin_service build ./*.egg-info

# The code (see .dockerignore for what stays out: tests, development tooling, load tests, docs).
COPY . .
RUN pip install --no-deps . \
    && rm -rf build ./*.egg-info \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin app

USER app
EXPOSE 8000 8001
# docker-compose.yml sets the command per service; this default serves the voting API as production does
# (granian, RSGI, the production flags: voting_service/__main__.py).
CMD ["python", "-m", "voting_service", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
