// Package check holds the tests of OTP's deployment files against the real
// tools and libraries operators use: the Kubernetes API types and Pod
// Security admission, the Compose loader, the PromQL parser, nginx -t,
// systemd-analyze and shellcheck. It is a module of its own so that those
// libraries stay out of OTP's go.mod; `make test` runs it
// (docs/deployment.md, "Checks").
package check
