# provision in a container, for Kubernetes (see deploy/).
# go-sqlite3 needs cgo, so the binary links glibc: the runtime image is
# distroless base (glibc, CA certificates, no shell), running as nonroot.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -trimpath -ldflags='-s -w' -o /out/provision ./cmd/provision

FROM gcr.io/distroless/base-debian12:nonroot
COPY --from=build /out/provision /usr/local/bin/provision
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/provision"]
