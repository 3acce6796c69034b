// Package helm holds the tests of the Helm chart in helm/ocrinvoice; it has no code.
//
// The tests render the chart with the helm binary (HELM, else bin/helm, else helm on
// PATH; `make helm-test` installs bin/helm from the Go module proxy), decode every
// rendered manifest strictly into the Kubernetes API types (an unknown or duplicate field
// is an error), and check what the chart promises: secure pod defaults, probes, the
// subcommand each Deployment runs, settings that internal/config accepts, secrets only in
// Secrets (or, with secrets.mountAsFiles, in read-only files named by NAME_FILE), hooks,
// trial mode as one `ocrinvoice all` Deployment, API keys on by default (the ConfigMap,
// NOTES.txt's first-key command, a helm test that expects 401 without a key), and a
// values schema that refuses bad values.
package helm
