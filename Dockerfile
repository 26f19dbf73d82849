# OpenMNR's container image, built from this repository alone:
#   docker build -t openmnr .
# One image for every role; the command says which (docs/deploy.md):
#   docker run --env-file openmnr.env -p 8000:8000 openmnr serve --host 0.0.0.0 --workers 4
#   docker run --env-file openmnr.env openmnr worker
#   docker run --env-file openmnr.env openmnr scan /data --out /scans/x --as account
#   docker run openmnr-image dask worker tcp://scheduler:8786 --nthreads 1   (scan workers)
FROM python:3.13-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN python -m venv /opt/openmnr \
 && /opt/openmnr/bin/pip install --no-cache-dir --upgrade pip \
 && /opt/openmnr/bin/pip install --no-cache-dir .

FROM python:3.13-slim-bookworm
# postgresql-client: pg_dump and pg_restore for scripts/backup and scripts/restore.
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /var/lib/openmnr --create-home --shell /usr/sbin/nologin openmnr
COPY --from=build /opt/openmnr /opt/openmnr
COPY scripts/backup scripts/restore /opt/openmnr/bin/
ENV PATH=/opt/openmnr/bin:$PATH \
    OPENMNR_VAR_DIR=/var/lib/openmnr \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER openmnr
WORKDIR /var/lib/openmnr
VOLUME ["/var/lib/openmnr"]
EXPOSE 8000
ENTRYPOINT ["openmnr"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
