# The exporter's container image: the statically linked binary
# (scripts/build-exporter.sh), CA certificates and a passwd entry for its
# non-root user, nothing else. Build stage pinned to an exact Go and Debian
# release; the image itself is FROM scratch (no shell, no package manager).
#
#   docker build -t mailtrail --build-arg VERSION=$(git describe --tags) \
#     --build-arg REVISION=$(git rev-parse HEAD) .
#   docker run -v /var/log/mail.log:/var/log/mail.log:ro \
#     -v mailtrail:/var/lib/mailtrail -p 9744:9744 mailtrail
#
# The journal lives in /var/lib/mailtrail (owned by uid 10001; mount a
# volume there). The mail log must be readable by uid 10001 or group 4 (adm
# on Debian) — pass --group-add 4 if the host's log is root:adm 0640.
# packaging/container_test.go checks this file against the binary.

FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG REVISION=unknown
ARG BRANCH=unknown
ARG BUILD_DATE=unknown
RUN LDFLAGS="-X github.com/prometheus/common/version.Version=${VERSION} \
	-X github.com/prometheus/common/version.Revision=${REVISION} \
	-X github.com/prometheus/common/version.Branch=${BRANCH} \
	-X github.com/prometheus/common/version.BuildUser=docker \
	-X github.com/prometheus/common/version.BuildDate=${BUILD_DATE}" \
	bash scripts/build-exporter.sh "linux/$(go env GOARCH)" /out/usr/bin/mailtrail
RUN mkdir -p /out/etc/ssl/certs /out/tmp /out/var/lib/mailtrail \
	&& cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ \
	&& chmod 1777 /out/tmp \
	&& echo 'mailtrail:x:10001:10001:mailtrail:/var/lib/mailtrail:/sbin/nologin' >/out/etc/passwd \
	&& echo 'mailtrail:x:10001:' >/out/etc/group \
	&& chmod 0750 /out/var/lib/mailtrail

FROM scratch
COPY --from=build /out/ /
# A named volume mounted here starts with this owner, so the journal is
# writable by the non-root user.
COPY --from=build --chown=10001:10001 /out/var/lib/mailtrail /var/lib/mailtrail
USER 10001:10001
WORKDIR /var/lib/mailtrail
EXPOSE 9744
ENTRYPOINT ["/usr/bin/mailtrail"]
CMD ["serve", "--log.path=/var/log/mail.log", "--journal.path=/var/lib/mailtrail/mailtrail.db", "--postfix.postqueue="]
