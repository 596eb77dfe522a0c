package catalog

// Suggest returns "; did you mean X?" for the name in known closest to
// name, when one is close enough to be a typo, and "" otherwise. Checks
// outside this package (field names of a typed object) use it so that
// every "did you mean" reads and ranks the same.
func Suggest(name string, known []string) string { return suggest(name, known) }
