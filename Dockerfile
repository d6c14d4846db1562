# allfhir: the FHIR REST service under gunicorn (`allfhir serve`), as a non-root user.
#   docker build -t allfhir .
#   docker run -p 8080:8080 -v allfhir-data:/data allfhir        # SQLite in the /data volume
# With PostgreSQL (ALLFHIR_DATABASE_URL) and the receiving EHR: see docker-compose.yml.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/allfhir
WORKDIR /src
# what the wheel is built from (pyproject's package-dir): the package, the curated knowledge and
# the compiled conformance resources; nothing else of the tree goes into the image
COPY pyproject.toml README.md ./
COPY service/ service/
COPY mappings/ mappings/
COPY profiles/fsh-generated/resources/ profiles/fsh-generated/resources/
RUN /opt/allfhir/bin/pip install .

FROM python:3.11-slim
ENV PATH=/opt/allfhir/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    ALLFHIR_DATA_DIR=/data \
    ALLFHIR_FHIR_PACKAGES=/data/fhir-packages
RUN groupadd --system --gid 10001 allfhir \
 && useradd --system --uid 10001 --gid allfhir --home-dir /data --no-create-home allfhir \
 && mkdir -p /data && chown allfhir:allfhir /data
COPY --from=build /opt/allfhir /opt/allfhir
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
# liveness from inside the container (the slim image has no curl): /health needs no credentials
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=4).status != 200)"]
ENTRYPOINT ["allfhir"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080", "--workers", "2"]
