// Package helm holds the tests of the Helm chart in helm/ocrinvoice; it has no code.
//
// The tests render the chart with the helm binary (HELM, else bin/helm, else helm on
// PATH; `make helm-test` installs bin/helm from the Go module proxy), decode every
// rendered manifest strictly into the Kubernetes API types (an unknown or duplicate field
// is an error), and check what the chart promises: secure pod defaults, probes, the
// subcommand each Deployment runs, settings that internal/config accepts, secrets only in
// Secrets, hooks, trial mode as one `ocrinvoice all` Deployment, and a values schema that
// refuses bad values.
package helm
