// Package rbac derives the Kubernetes RBAC that statusd needs from a
// catalogue, so that what statusd may read is exactly what its catalogue
// watches: nothing broader to be stolen with its token, nothing narrower
// for a source to fail on as forbidden.
//
// The permissions fall in two parts, because they are of two kinds:
//
//   - A ClusterRole (ClusterRules): get, list and watch on every resource a
//     source of the catalogue watches, pods for metrics sources (their
//     targets are found by watching pods), namespaces when a source selects
//     namespaces by label (pkg/sources watches Namespaces for their labels;
//     name globs are matched against each object's own namespace and need
//     nothing), and Events everywhere: statusd publishes an Event in its
//     subject's namespace and lists its own Events at start-up to restore
//     its state. It is cluster-wide even for sources limited to named
//     namespaces, since those namespaces may not exist when statusd is
//     installed, and a RoleBinding cannot be made in a namespace that does
//     not exist yet.
//   - A Role in statusd's own namespace (RoleRules): the leader-election
//     Lease and the catalogue ConfigMap, each restricted to its one name.
//
// Secrets are never granted: a catalogue that names them, or a wildcard
// that would include them, is refused with ErrSecrets. `statusd rbac`
// prints both roles; the Helm chart's ClusterRole is generated from the
// shipped catalogue with it (see internal/chart).
package rbac
