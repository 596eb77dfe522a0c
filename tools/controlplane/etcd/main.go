// Command etcd is etcd's own server entry point, built here from the
// go.etcd.io/etcd/server/v3 module so that the test control plane needs no
// release download and is pinned by this module's go.sum like everything else.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
