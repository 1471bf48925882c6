// Package statedir answers one question: where omsrun keeps its own files on
// the control machine (run records, MetaDB backups). It is a leaf package so
// that modules (the MetaDB backup) and the CLI (history) share the answer.
package statedir

import (
	"fmt"
	"os"
	"path/filepath"
)

// Dir is $XDG_STATE_HOME/omsrun, or ~/.local/state/omsrun when
// XDG_STATE_HOME is unset or relative (the XDG base directory specification
// says to ignore a relative one).
func Dir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "omsrun"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return "", fmt.Errorf("omsrun's state folder: no home folder (%v); set XDG_STATE_HOME", err)
	}
	return filepath.Join(home, ".local", "state", "omsrun"), nil
}

// Backups is where MetaDB backups go unless backup_dir says otherwise.
func Backups() (string, error) {
	d, err := Dir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "backups"), nil
}
