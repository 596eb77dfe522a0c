# statusd's container image: a static binary on distroless, running as the
# nonroot user (65532) that the Helm chart's securityContext expects.
#
#   make image                      # docker build -t statusd:dev .
#   make image IMAGE=registry.example.com/statusd:0.1.0 CONTAINER_ENGINE=podman
#
# The builder pins go.mod's Go release, so no toolchain is downloaded.
ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION} AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# CGO off: a static binary that runs on distroless/static, which has no libc.
# No RUN --mount caches: they need BuildKit, and the legacy builder (docker
# without buildx, older podman) must build this file too.
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o /out/statusd ./cmd/statusd

# distroless/static: CA certificates, tzdata and /etc/passwd with nonroot;
# no shell, no package manager, nothing for an intruder to use.
FROM gcr.io/distroless/static:nonroot
COPY --from=build /out/statusd /statusd
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/statusd"]
CMD ["run"]
