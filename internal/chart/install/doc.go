// Package install holds no code, only the tests that install the Helm chart
// on the real local control plane (internal/testenv): every rendered object
// must pass the API server's own validation and admission, and the chart's
// ServiceAccount, with a real token, must be able to do exactly what
// statusd does with the shipped catalogue and nothing it must not (Secrets,
// other ConfigMaps, resources no source names).
//
// They live apart from package chart because a control plane takes seconds
// to start, and make generate runs that package's drift test alone.
package install
