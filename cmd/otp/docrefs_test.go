package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Written by other work in progress; until they exist, references to them
// are not checked.
var docsToCome = map[string]bool{"docs/promise.md": true, "docs/operations.md": true, "docs/deployment.md": true}

var (
	// a file under docs/ or the top README, bare or as a relative link
	// (../README.md), not another directory's README.md.
	docRef  = regexp.MustCompile(`(?:^|[^/\w.-])(?:\.\./)*((?:docs/[a-z0-9-]+|README)\.md)(#[a-z0-9-]+)?`)
	heading = regexp.MustCompile(`(?m)^#{1,6} (.+)$`)
)

// anchors are GitHub's ids for a Markdown file's headings.
func anchors(md string) map[string]bool {
	out := map[string]bool{}
	for _, m := range heading.FindAllStringSubmatch(md, -1) {
		var b strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(m[1])) {
			switch {
			case r == ' ':
				b.WriteByte('-')
			case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
				b.WriteRune(r)
			}
		}
		out[b.String()] = true
	}
	return out
}

// Every reference to a file under docs/ or to the README, with or without
// a heading anchor, in Go code or Markdown names a file that exists and one
// of its headings.
func TestDocReferencesResolve(t *testing.T) {
	root := "../.."
	heads := map[string]map[string]bool{}
	headsOf := func(file string) (map[string]bool, bool) {
		if h, ok := heads[file]; ok {
			return h, h != nil
		}
		b, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			heads[file] = nil
			return nil, false
		}
		heads[file] = anchors(string(b))
		return heads[file], true
	}
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !(strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".md")) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		for i, line := range strings.Split(string(b), "\n") {
			for _, m := range docRef.FindAllStringSubmatch(line, -1) {
				file, anchor := m[1], strings.TrimPrefix(m[2], "#")
				h, ok := headsOf(file)
				switch {
				case !ok && docsToCome[file]:
				case !ok:
					t.Errorf("%s:%d cites %s, which is not in the repository", rel, i+1, file)
				case anchor != "" && !h[anchor]:
					t.Errorf("%s:%d cites %s#%s: %s has no such heading", rel, i+1, file, anchor, file)
				default:
					checked++
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Errorf("checked %d references, want the code's citations of docs/ (over 100)", checked)
	}
}
