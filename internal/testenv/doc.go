// Package testenv runs a real, local Kubernetes control plane for tests:
// etcd, kube-apiserver, kube-controller-manager and kube-scheduler built from
// Go modules by `make testenv`, with kwok playing the kubelet for simulated
// nodes and pods.
//
// statusd's behaviour against an API server (informers, discovery, RBAC
// failures, restarts, request counts) is only worth testing against the real
// thing, so there are no fakes here: RBAC is on, controllers create
// ServiceAccounts, ReplicaSets and EndpointSlices, and the scheduler writes
// real Unschedulable conditions.
//
// A package that talks to the API server starts one control plane for all its
// tests from TestMain:
//
//	func TestMain(m *testing.M) {
//		testenv.Main(m, testenv.Options{Nodes: 2})
//	}
//
//	func TestSomething(t *testing.T) {
//		env := testenv.Shared()
//		client := env.Client()
//		...
//	}
//
// Every process listens on free ports of 127.0.0.1 only and keeps its data and
// logs in one temporary directory. Stop ends them all (process groups, SIGTERM
// then SIGKILL) and removes the directory. If the test binary dies without
// running Stop (a panic in a test, a timeout), the kernel kills the children
// (PR_SET_PDEATHSIG) and the next Start removes the orphaned directory.
//
// The defaults suit tests of a few pods. For a cluster of a thousand nodes
// and tens of thousands of pods (internal/scale), Options lifts the client
// rate limits of kube-controller-manager and kube-scheduler, narrows the
// scheduler's work per pod, lengthens the node Leases kwok renews and raises
// GOGC; each option's comment says what it costs at the default.
//
// Missing binaries are an error, never a skip: a test run that silently skips
// the API-server tests would pass while testing nothing.
package testenv
