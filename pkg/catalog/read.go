package catalog

// ReadFiles reads catalogue paths the way Load does (a directory
// contributes its *.yaml and *.yml files of kind Catalog, dot-files and
// subdirectories excluded, which also skips the kubelet's ..data
// directories of a mounted ConfigMap) without decoding them, for callers
// that hash or watch the content before compiling it.
func ReadFiles(paths ...string) ([]*File, error) {
	var out []*File
	for _, p := range paths {
		fs, err := readPath(p)
		if err != nil {
			return nil, err
		}
		out = append(out, fs...)
	}
	return out, nil
}
