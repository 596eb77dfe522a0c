// Package suppress decides which findings a root cause hides.
//
// A catalogue's suppression edges form a graph from causes to symptoms.
// NewGraph refuses cycles of any length (reporting each with its full path)
// and orders reasons so that every cause is evaluated before its symptoms,
// in the same tick. That ordering is what lets statusd guarantee what
// Alertmanager's inhibition cannot: a symptom is never published before its
// cause is known.
//
// The rule, applied by the engine with an Index per tick:
//
//   - A cause finding that is firing hides every symptom finding its edge
//     joins to it. The hidden finding is kept, with the cause that hid it,
//     for explain output, but is not published.
//   - A cause finding that is pending (its condition holds but its grace
//     window has not passed) holds joined symptom findings pending too, even
//     past their own grace, until the cause either fires (and hides them) or
//     stops holding (and releases them).
//   - A cause that is itself hidden still hides its own symptoms: in a chain
//     A → B → C with A firing, C is hidden by B, and explain follows the
//     chain up to A.
//   - Joins compare keys computed on both subjects (NamedKeys, or a CEL key
//     expression). A subject with no key for a join (a pod not yet on a
//     node, under sameNode) is never joined. sameWorkload, sameService and
//     sameVolumeClaim read more than the subject (owner chains through the
//     snapshot's ReplicaSets and Jobs, EndpointSlices' targetRefs): a
//     Joiner per snapshot computes them, and SideProblem and Needs say
//     which subjects and sources an edge needs, for lint.
//   - When several causes match, firing beats pending, then the higher
//     priority, then the reason name, so the answer is deterministic.
package suppress
