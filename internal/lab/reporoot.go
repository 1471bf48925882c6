package lab

import (
	"errors"
	"os"
	"path/filepath"
)

// RepoRoot is the nearest folder upwards with a go.mod: the Makefile runs
// omslab from the repo, tests from a package folder.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the current folder: run from the omsrun repository")
		}
		dir = parent
	}
}
