package catalog

import (
	"slices"

	"statusd.io/statusd/pkg/yamlpos"
)

// Extending without forking. An operator keeps statusd's shipped catalogue
// as it is released and loads a file of their own beside it: either more
// files of the same catalogue (kind Catalog, same metadata), or an overlay
// (kind CatalogOverlay) that may also override params and disable shipped
// reasons. Edges from a shipped cause to the operator's reason are written
// on the symptom (suppressedBy) or in an edge list (suppressions), so no
// shipped file is edited. Every element keeps the position of the file it
// came from, so errors and explain name its origin.

// checkBaseOnly refuses the overlay-only fields in a plain catalogue file,
// where they would read as edits of the catalogue's own reasons.
func checkBaseOnly(part *Catalog, errs *ErrorList) {
	if len(part.Disable) > 0 {
		errs.Errorf(part.disablePos(0), "", "disable is for kind %s: a catalogue's own reasons are removed by deleting them", KindOverlay)
	}
}

// applyOverlay merges an overlay into the catalogue: params override,
// everything else adds, and disabled reasons go.
func applyOverlay(into, o *Catalog, errs *ErrorList) {
	if o.Metadata.Name != "" {
		into.Metadata.Version += "+" + o.Metadata.Name + "." + o.Metadata.Version
	}
	if o.Settings.PublishSecondary {
		into.Settings.PublishSecondary = true
	}
	for _, name := range sortedKeys(o.Params) {
		into.Params[name] = o.Params[name]
	}
	params := o.Params
	o.Params = nil
	mergeInto(into, o, errs)
	o.Params = params
	into.Suppressions = append(into.Suppressions, o.Suppressions...)
	names := make([]string, len(into.Reasons))
	for i, r := range into.Reasons {
		names[i] = r.Name
	}
	for i, name := range o.Disable {
		if !slices.Contains(names, name) {
			pos := o.disablePos(i)
			errs.Errorf(pos, "", "disable: no reason %q to disable%s", name, yamlpos.Suggest(name, names))
			continue
		}
		into.Reasons = slices.DeleteFunc(into.Reasons, func(r Reason) bool { return r.Name == name })
		into.Disabled = append(into.Disabled, name)
	}
	if len(into.Disabled) > 0 {
		for i := range into.Reasons {
			into.Reasons[i].Suppresses = slices.DeleteFunc(into.Reasons[i].Suppresses, func(e Edge) bool {
				return slices.Contains(into.Disabled, e.Reason)
			})
		}
	}
}

// disablePos is where the i-th disabled name of a decoded document was
// written; when the list did not decode as written, its first reason or
// the document itself.
func (c *Catalog) disablePos(i int) Pos {
	switch {
	case i < len(c.disableAt):
		return c.disableAt[i]
	case len(c.Reasons) > 0:
		return c.Reasons[0].Pos
	}
	return c.docPos
}

// applyEdges turns edges written on a symptom (suppressedBy) or in an edge
// list (suppressions) into the cause's suppresses, keeping their own
// positions, so that the suppression graph and its checks see one kind of
// edge.
func applyEdges(c *Catalog, errs *ErrorList) {
	index := map[string]int{}
	names := make([]string, len(c.Reasons))
	for i, r := range c.Reasons {
		if _, dup := index[r.Name]; !dup {
			index[r.Name] = i
		}
		names[i] = r.Name
	}
	add := func(pos Pos, cause, symptom string, join Join, where string) {
		ci, ok := index[cause]
		switch {
		case !ok && slices.Contains(c.Disabled, cause):
			return // a disabled cause hides nothing
		case !ok:
			errs.Errorf(pos, "", "%s: no cause reason %q%s", where, cause, yamlpos.Suggest(cause, names))
			return
		}
		if _, ok := index[symptom]; !ok {
			if slices.Contains(c.Disabled, symptom) {
				return
			}
			errs.Errorf(pos, "", "%s: no symptom reason %q%s", where, symptom, yamlpos.Suggest(symptom, names))
			return
		}
		c.Reasons[ci].Suppresses = append(c.Reasons[ci].Suppresses, Edge{Pos: pos, Reason: symptom, Join: join})
	}
	for i := range c.Reasons {
		r := &c.Reasons[i]
		for _, e := range r.SuppressedBy {
			add(e.Pos, e.Reason, r.Name, e.Join, "reason "+r.Name+": suppressedBy")
		}
	}
	for _, s := range c.Suppressions {
		add(s.Pos, s.Cause, s.Symptom, s.Join, "suppressions")
	}
}
