package loader_test

import (
	"os"
	"testing"
	"time"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/loader"
)

func TestZZProbe(t *testing.T) {
	for _, h := range hostileCatalogues {
		if h.name != os.Getenv("CASE") {
			continue
		}
		data := h.gen(hostileSize)
		t0 := time.Now()
		src, errs := catalog.Parse(catalog.NewFile("x.yaml", []byte(data)))
		t.Logf("parse %v %d", time.Since(t0), len(errs))
		_ = src
		t0 = time.Now()
		res := loader.Files([]*catalog.File{catalog.NewFile("x.yaml", []byte(data))}, nil, "x", cel.Options{CompileBudget: time.Second})
		t.Logf("load %v %d", time.Since(t0), len(res.Problems))
	}
}
