# The monitor as a container: non-root, data on a volume, config mounted read-only.
#   docker build -t humanitarian-monitor .
#   docker run -d -v monitor-data:/data -v "$PWD/config:/config:ro" -e SLACK_WEBHOOK=... humanitarian-monitor
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY monitor ./monitor
RUN pip install . \
    && groupadd --system --gid 10001 monitor \
    && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/monitor monitor \
    && mkdir -p /data \
    && chown monitor:monitor /data
COPY config /config

USER 10001:10001
ENV MONITOR_CONFIG_DIR=/config \
    MONITOR_DATA_DIR=/data
VOLUME ["/data"]

# Healthy while the daemon's scheduler is alive: it touches a heartbeat file in /data.
HEALTHCHECK --interval=60s --timeout=10s --start-period=90s --retries=3 CMD ["monitor", "health"]
ENTRYPOINT ["monitor"]
CMD ["run"]
