// Package prune trims unstructured Kubernetes objects to the fields a
// catalogue can read, so that statusd's watch caches hold only those.
//
// A Tree is a set of field paths. Each node either keeps its whole value
// (All) or only the child keys it names. Lists are transparent: a path never
// names an index, and a list's node applies to each of its elements, which
// are never removed (a list's length is observable). A node that an
// expression ranges over (Iterated) keeps a map whole, since a map's keys
// are then data, and applies its children to each element of a list.
//
// Whatever the tree, Tree.Apply keeps apiVersion, kind, the metadata in
// Metadata (identity, resource version, labels, owner and controller UIDs,
// creation and deletion times) and spec.nodeName: snapshot indexes,
// selectors, suppression joins, Events and scraping read those outside any
// expression. The rest of metadata (annotations, the rest of each owner
// reference, generateName, finalizers) is kept only where the tree reads
// it, and managedFields and the kubectl last-applied-configuration
// annotation, which statusd has never cached, only where it names them. A nil *Tree keeps everything: it is what a caller uses when it
// cannot tell what is read.
//
// pkg/cel computes the trees of a compiled catalogue (Catalog.Fields);
// pkg/sources applies them in its informers' transform.
package prune
