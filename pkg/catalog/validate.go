package catalog

import (
	"errors"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"k8s.io/apimachinery/pkg/labels"

	"statusd.io/statusd/pkg/yamlpos"
)

// reasonNameRE is what Kubernetes expects of an Event reason: a short
// UpperCamelCase (or lowerCamelCase, as the production-stack pack uses)
// identifier that tools can match on.
var reasonNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{0,127}$`)

// Default scrape settings, used when a metrics source leaves them out.
const (
	DefaultScrapeInterval = 15 * time.Second
	DefaultScrapeTimeout  = 5 * time.Second
	DefaultScrapePath     = "/metrics"
)

// Validate checks everything about a decoded catalogue that does not need
// CEL: names, references between reasons and sources, durations, selectors.
// It resolves duration params in place and fills scrape defaults.
func Validate(c *Catalog) ErrorList {
	var errs ErrorList
	for _, name := range c.ParamNames() {
		if !isIdent(name) {
			errs.Errorf(c.Params[name].Pos, "", "param name %q must be an identifier (letters, digits, _)", name)
		}
	}
	for _, name := range c.SourceNames() {
		s := c.Sources[name]
		validateSource(c, name, &s, &errs)
		c.Sources[name] = s
	}
	seenVar := map[string]Pos{}
	for _, v := range c.Variables {
		switch prev, dup := seenVar[v.Name]; {
		case v.Name == "":
			errs.Errorf(v.Pos, "", "variable needs a name")
		case !isIdent(v.Name):
			errs.Errorf(v.Pos, "", "variable name %q must be an identifier (letters, digits, _)", v.Name)
		case dup:
			errs.Errorf(v.Pos, "", "variable %q is declared twice (first at %s)", v.Name, prev)
		}
		seenVar[v.Name] = v.Pos
		if v.Expression.IsZero() {
			errs.Errorf(v.Pos, "", "variable %q needs an expression", v.Name)
		}
	}
	seen := map[string]Pos{}
	for i := range c.Reasons {
		r := &c.Reasons[i]
		if prev, dup := seen[r.Name]; dup && r.Name != "" {
			errs.Errorf(r.Pos, r.Name, "duplicate reason name (first at %s)", prev)
		}
		seen[r.Name] = r.Pos
	}
	for i := range c.Reasons {
		validateReason(c, &c.Reasons[i], seen, &errs)
	}
	return errs
}

func validateSource(c *Catalog, name string, s *Source, errs *ErrorList) {
	if !isIdent(name) {
		errs.Errorf(s.Pos, "", "source name %q must be an identifier (letters, digits, _)", name)
	}
	if m := s.Metrics; m != nil {
		resolveDuration(c, &m.Interval, "", errs)
		resolveDuration(c, &m.Timeout, "", errs)
		m.fillDefaults()
	}
	if q := s.Prometheus; q != nil {
		resolveDuration(c, &q.Timeout, "", errs)
		q.fillDefaults()
	}
	*errs = append(*errs, CheckSource(name, *s)...)
	// Expectations read the catalogue's params, so they are checked here
	// rather than in CheckSource.
	validateExpectations(c, name, s, errs)
}

// fillDefaults fills what a metrics source leaves out. As Prometheus does, a
// default timeout never exceeds the interval: interval: 2s alone is valid,
// not an error about a timeout nobody wrote.
func (m *Scrape) fillDefaults() {
	if m.Path == "" {
		m.Path = DefaultScrapePath
	}
	if m.Interval.D <= 0 {
		m.Interval.D = DefaultScrapeInterval
	}
	if m.Timeout.D <= 0 {
		m.Timeout.D = min(DefaultScrapeTimeout, m.Interval.D)
	}
}

// WithDefaults returns a copy of the scrape settings with what was left out
// filled in; Validate fills them in place, and the sources call this for a
// catalogue that was built in memory rather than validated.
func (m Scrape) WithDefaults() Scrape {
	m.fillDefaults()
	return m
}

// CheckSource checks one source on its own (its durations already
// resolved): what it selects, its selectors, its scrape settings. Validate
// runs it for every source, and the live sources run it again before
// watching, so that a catalogue built in memory obeys the same rules as one
// read from a file.
func CheckSource(name string, s Source) ErrorList {
	var errs ErrorList
	for _, ns := range s.Namespaces.Names {
		if _, err := path.Match(ns, ""); err != nil || ns == "" {
			errs.Errorf(s.Pos, "", "source %q: invalid namespace name or glob %q", name, ns)
		}
	}
	if s.Prometheus != nil {
		checkQuery(name, &s, &errs)
		return errs.WithKind(ErrInvalid)
	}
	checkSelector(s.Pos, "source "+name+": namespaces.selector", s.Namespaces.Selector, &errs)
	if s.Metrics == nil {
		if s.Version == "" || s.Resource == "" {
			errs.Errorf(s.Pos, "", "source %q needs version and resource (group too, unless it is a core resource), or metrics", name)
		}
		for _, err := range CheckResource(&s) {
			errs.Errorf(s.Pos, "", "source %q: %v", name, err)
		}
		checkSelector(s.Pos, "source "+name+": selector", s.Selector, &errs)
		return errs.WithKind(ErrInvalid)
	}
	m := s.Metrics.WithDefaults()
	if s.Group != "" || s.Version != "" || s.Resource != "" || s.Selector != "" || s.Optional {
		errs.Errorf(s.Pos, "", "source %q: a metrics source selects pods with metrics.selector; group, version, resource, selector and optional do not apply", name)
	}
	if m.Selector == "" {
		errs.Errorf(s.Pos, "", "source %q: metrics.selector is required: statusd scrapes only pods the catalogue selects", name)
	}
	checkSelector(s.Pos, "source "+name+": metrics.selector", m.Selector, &errs)
	if m.Port.IsZero() {
		errs.Errorf(s.Pos, "", "source %q: metrics.port is required", name)
	}
	if m.Path[0] != '/' {
		errs.Errorf(s.Pos, "", "source %q: metrics.path %q must start with /", name, m.Path)
	}
	if m.Interval.D < time.Second {
		errs.Errorf(m.Interval.Pos, "", "source %q: metrics.interval must be at least 1s", name)
	}
	if m.Timeout.D > m.Interval.D {
		errs.Errorf(m.Timeout.Pos, "", "source %q: metrics.timeout %s exceeds metrics.interval %s", name, m.Timeout.D, m.Interval.D)
	}
	return errs.WithKind(ErrInvalid)
}

// checkQuery checks a Prometheus query source. The query's PromQL is
// checked by CheckPromQL, a structural check (see its doc for why not
// Prometheus's own parser); the server's own parse error, with its
// position, reaches the reasons that read the source as Unknown.
func checkQuery(name string, s *Source, errs *ErrorList) {
	q := s.Prometheus
	if s.Group != "" || s.Version != "" || s.Resource != "" || s.Selector != "" || s.Optional || s.Metrics != nil || !s.Namespaces.IsZero() || len(s.Expect) > 0 {
		errs.Errorf(s.Pos, "", "source %q: a prometheus source is one query; group, version, resource, selector, namespaces, optional, expect and metrics do not apply", name)
	}
	if strings.TrimSpace(q.Query.Text) == "" {
		errs.Errorf(s.Pos, "", "source %q: prometheus.query is required", name)
	} else if err := CheckPromQL(q.Query.Text); err != nil {
		var pe *PromQLError
		pos := q.Query.Pos
		if errors.As(err, &pe) {
			pos = q.Query.Locate(pe.Line, pe.Col)
		}
		errs.Errorf(pos, "", "source %q: prometheus.query: %v", name, err)
	}
	for _, what := range []string{"namespace", "name"} {
		l := q.Join.Namespace
		if what == "name" {
			l = q.Join.Name
		}
		if l != "" && !model.UTF8Validation.IsValidLabelName(l) {
			errs.Errorf(s.Pos, "", "source %q: prometheus.join.%s %q is not a label name", name, what, l)
		}
	}
	if q.MaxSeries < 0 {
		errs.Errorf(s.Pos, "", "source %q: prometheus.maxSeries must be positive", name)
	}
}

// fillDefaults fills what a query source leaves out.
func (q *Query) fillDefaults() {
	if q.Timeout.D <= 0 {
		// Absent, 0s, or already reported as invalid.
		q.Timeout.D = DefaultQueryTimeout
	}
	if q.MaxSeries == 0 {
		q.MaxSeries = DefaultQueryMaxSeries
	}
}

func checkSelector(pos Pos, what, sel string, errs *ErrorList) {
	if sel == "" {
		return
	}
	if _, err := labels.Parse(sel); err != nil {
		errs.Errorf(pos, "", "%s: invalid label selector %q: %v", what, sel, err)
	}
}

func validateReason(c *Catalog, r *Reason, names map[string]Pos, errs *ErrorList) {
	switch {
	case r.Name == "":
		errs.Errorf(r.Pos, "", "reason needs a name")
	case !reasonNameRE.MatchString(r.Name):
		errs.Errorf(r.Pos, r.Name, "name must be a CamelCase identifier of at most 128 letters and digits, as Event reasons are")
	}
	switch src, ok := c.Sources[r.Subject]; {
	case r.Subject == "":
		errs.Errorf(r.Pos, r.Name, "subject is required: name the source whose objects this reason is about")
	case !ok:
		errs.Errorf(r.Pos, r.Name, "subject %q is not a declared source%s", r.Subject, yamlpos.Suggest(r.Subject, c.SourceNames()))
	case src.IsMetrics():
		errs.Errorf(r.Pos, r.Name, "subject %q is a metrics source; a subject must be an object source (use metrics(object) inside when)", r.Subject)
	case src.IsQuery():
		errs.Errorf(r.Pos, r.Name, "subject %q is a prometheus source; a subject must be an object source (use cluster.query(%q, object) inside when)", r.Subject, r.Subject)
	}
	if r.When.IsZero() {
		errs.Errorf(r.Pos, r.Name, "when is required")
	}
	if r.Severity.Level() == "" {
		errs.Errorf(r.Pos, r.Name, "severity %q: want critical, warning or info", r.Severity)
	}
	if r.Message.IsZero() && r.Summary == "" {
		errs.Errorf(r.Pos, r.Name, "needs a message expression or a static summary")
	}
	resolveDuration(c, &r.Grace.For, r.Name, errs)
	resolveDuration(c, &r.Clear, r.Name, errs)
	if !r.Grace.Since.IsZero() && r.Grace.For.IsZero() {
		errs.Errorf(r.Grace.Since.Pos, r.Name, "grace.since without grace.for has no effect")
	}
	edges := map[string]bool{}
	for _, e := range r.Suppresses {
		switch _, ok := names[e.Reason]; {
		case e.Reason == "":
			errs.Errorf(e.Pos, r.Name, "suppression edge needs a reason")
		case e.Reason == r.Name:
			errs.Errorf(e.Pos, r.Name, "reason suppresses itself")
		case !ok:
			errs.Errorf(e.Pos, r.Name, "suppresses unknown reason %q%s", e.Reason, yamlpos.Suggest(e.Reason, keys(names)))
		case edges[e.Reason]:
			errs.Errorf(e.Pos, r.Name, "suppresses %q twice", e.Reason)
		}
		edges[e.Reason] = true
		if e.Join.Kind == "" {
			errs.Errorf(e.Pos, r.Name, "suppression edge to %q needs a join (%s or {key: <CEL>})", e.Reason, joinNames())
		}
	}
}

// resolveDuration fills a duration written as a param name from the param's
// value.
func resolveDuration(c *Catalog, d *Duration, reason string, errs *ErrorList) {
	if d.Param == "" {
		return
	}
	p, ok := c.Params[d.Param]
	if !ok {
		errs.Errorf(d.Pos, reason, "%q is neither a duration nor a param%s", d.Raw, yamlpos.Suggest(d.Param, c.ParamNames()))
		return
	}
	s, ok := p.Value.(string)
	if !ok {
		errs.Errorf(d.Pos, reason, "param %q is not a duration", d.Param)
		return
	}
	v, err := ParseDuration(s)
	if err != nil {
		errs.Errorf(d.Pos, reason, "param %q: %v", d.Param, err)
		return
	}
	d.D = v
}

func keys(m map[string]Pos) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// joinNames lists the named joins for messages.
func joinNames() string {
	names := make([]string, len(JoinKinds))
	for i, k := range JoinKinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}
