# The chaind image compiled inside Docker with BuildKit: a Go stage whose
# build cache and module cache are cache mounts (kept by the builder between
# builds), so a rebuild after a small change compiles only the packages it
# touches; then the FROM-scratch image of deploy/Dockerfile. Context: the
# repository root. deploy/build.sh --docker runs it, or:
#   DOCKER_BUILDKIT=1 docker build -f deploy/build.Dockerfile -t chaind:dev .
# GO_IMAGE is any image with Go at /usr/local/go and a shell (the official
# golang image; build.sh makes one from this machine's Go where no registry
# is reachable).
ARG GO_IMAGE=golang:1.26.8
FROM ${GO_IMAGE} AS build
ENV CGO_ENABLED=0 GOCACHE=/cache/go-build GOMODCACHE=/cache/mod GOTOOLCHAIN=local
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,id=chaind-go,target=/cache go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=
RUN --mount=type=cache,id=chaind-go,target=/cache \
    go build -trimpath \
      -ldflags "-s -w -X github.com/chaind/chaind/internal/version.Version=${VERSION} -X github.com/chaind/chaind/internal/version.Commit=${COMMIT}" \
      -o /out/chaind ./cmd/chaind

FROM scratch
COPY --from=build /out/chaind /chaind
VOLUME /data
EXPOSE 3001 6001 6002
ENTRYPOINT ["/chaind", "run", "--datadir", "/data", "--http", "0.0.0.0:3001", "--p2p", "0.0.0.0:6001"]
