# syntax=docker/dockerfile:1
#
# ocrinvoice: one image for `serve`, `worker`, `all` and `migrate` (the Helm chart in
# helm/ocrinvoice runs it). Build:
#
#   docker build --build-arg VERSION=$(git describe --tags --always) -t ocrinvoice/ocrinvoice:TAG .
#
# The binary links Tesseract and Leptonica through cgo, so the builder has their headers
# and the runtime has their shared libraries (tesseract-ocr brings them), the language
# models and poppler-utils (pdftotext, pdftoppm, pdfinfo). The runtime has no compiler,
# no headers and no Go toolchain.

ARG GO_VERSION=1.26
ARG DEBIAN_RELEASE=bookworm

# ---- build -------------------------------------------------------------------------------
FROM golang:${GO_VERSION}-${DEBIAN_RELEASE} AS build
RUN apt-get update \
	&& apt-get install -y --no-install-recommends g++ libtesseract-dev libleptonica-dev \
	&& rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# VERSION is printed by `ocrinvoice --version`.
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
	CGO_ENABLED=1 go build -tags sqlite_fts5 -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
	-o /out/ocrinvoice ./cmd/ocrinvoice

# ---- runtime -----------------------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE}-slim
ARG VERSION=dev
LABEL org.opencontainers.image.title="ocrinvoice" \
	org.opencontainers.image.description="OCR invoice job service: GraphQL and REST API, queue workers" \
	org.opencontainers.image.source="https://github.com/ocrinvoice/ocrinvoice" \
	org.opencontainers.image.version="${VERSION}"
RUN apt-get update \
	&& apt-get install -y --no-install-recommends \
		ca-certificates \
		poppler-utils \
		util-linux \
		tesseract-ocr \
		tesseract-ocr-eng tesseract-ocr-deu tesseract-ocr-fra tesseract-ocr-spa \
		tesseract-ocr-ita tesseract-ocr-nld tesseract-ocr-por tesseract-ocr-osd \
	&& rm -rf /var/lib/apt/lists/*
# A fixed non-root uid/gid (the chart's runAsUser and fsGroup) owning the data directory.
RUN groupadd --system --gid 10001 ocrinvoice \
	&& useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/ocrinvoice --no-create-home \
		--shell /usr/sbin/nologin ocrinvoice \
	&& install -d -o 10001 -g 10001 -m 0750 /var/lib/ocrinvoice
COPY --from=build /out/ocrinvoice /usr/local/bin/ocrinvoice
# OMP_THREAD_LIMIT=1: Tesseract's OpenMP reads it at load time (one thread per page is
# faster; the binary would re-exec itself to set it). OCRINVOICE_ADDR: listen on every
# interface, not the loopback default. REDIS_URL must be set: the image has no
# redis-server for the private one the binary starts without it.
ENV OMP_THREAD_LIMIT=1 \
	OCRINVOICE_ADDR=:8080 \
	OCRINVOICE_DATA_DIR=/var/lib/ocrinvoice
# Fails the build if a shared library is missing.
RUN ["/usr/local/bin/ocrinvoice", "--version"]
USER 10001:10001
WORKDIR /var/lib/ocrinvoice
VOLUME ["/var/lib/ocrinvoice"]
# 8080: API (serve, all); 8081: the worker's probes and metrics (OCRINVOICE_HEALTH_ADDR=:8081).
EXPOSE 8080 8081
ENTRYPOINT ["/usr/local/bin/ocrinvoice"]
CMD ["all"]
