# syncer: the reconciler as a service (docs/operations.md). Built from this checkout:
#   docker build -t syncer:0.1.0 .
# Two stages: the first builds syncer's wheel from the checkout; the second installs it on a slim
# Python with git (gitpython needs it) and ssh (a deploy key fetches the GitOps repository), runs as
# a non-root user, and keeps no compiler, no pip and no wheel cache.

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY syncer ./syncer
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SYNCER_LOG_FORMAT=json \
    SYNCER_DB=/var/lib/syncer/serve.db \
    SYNCER_CACHE_DIR=/var/cache/syncer \
    HOME=/home/syncer
# Debian's security updates replace exact versions; pinning them would break every rebuild.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git openssh-client ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 syncer \
    && useradd --system --uid 10001 --gid 10001 --home-dir /home/syncer --create-home syncer \
    && mkdir -p /var/lib/syncer /var/cache/syncer /work \
    && chown 10001:10001 /var/lib/syncer /var/cache/syncer /work
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels /wheels/syncer-*.whl \
    && pip uninstall --yes pip setuptools wheel
USER 10001:10001
WORKDIR /work
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"]
ENTRYPOINT ["syncer"]
CMD ["serve", "--repo", "/work/repo", "--host", "0.0.0.0", "--port", "8080"]
