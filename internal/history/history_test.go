package history

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/engine"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/internal/statedir"
)

type nopSink struct{ n int }

func (s *nopSink) RunStart(engine.RunInfo)      { s.n++ }
func (s *nopSink) StepStart(engine.StepInfo)    { s.n++ }
func (s *nopSink) Progress(engine.Progress)     { s.n++ }
func (s *nopSink) HostResult(engine.HostResult) { s.n++ }
func (s *nopSink) StepEnd(engine.StepEnd)       { s.n++ }
func (s *nopSink) Recap(engine.Recap)           { s.n++ }

func TestStateDirFollowsXDG(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/srv/state")
	if d, _ := statedir.Dir(); d != "/srv/state/omsrun" {
		t.Errorf("Dir = %q", d)
	}
	if d, _ := statedir.Backups(); d != "/srv/state/omsrun/backups" {
		t.Errorf("Backups = %q", d)
	}
	// A relative XDG_STATE_HOME is ignored, as the specification says.
	t.Setenv("XDG_STATE_HOME", "relative")
	t.Setenv("HOME", "/home/op")
	if d, _ := statedir.Dir(); d != "/home/op/.local/state/omsrun" {
		t.Errorf("Dir = %q", d)
	}
}

func TestRecordARun(t *testing.T) {
	state := t.TempDir()
	red := secret.NewRedactor()
	pw := cty.StringVal("Zx9-hunter2-Qq").Mark(secret.Mark)
	red.AddValue(pw)
	vars := map[string]cty.Value{
		"image":             cty.StringVal("oms:1"),
		"oms_meta_password": cty.StringVal("Yw8-plain-by-name"), // secret by its name only
		"marked":            pw,
		"nested":            cty.ObjectVal(map[string]cty.Value{"tsdb_password": cty.StringVal("Xv7-nested"), "port": cty.NumberIntVal(8086)}),
		"list":              cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("echo Zx9-hunter2-Qq")}),
	}
	inner := &nopSink{}
	rec, err := Start(state, inner, Run{Playbook: "deploy.hcl", Hosts: []string{"oms1"}, Vars: vars, Redactor: red})
	if err != nil {
		t.Fatal(err)
	}
	rec.RunStart(engine.RunInfo{Playbook: "deploy.hcl", Hosts: []string{"oms1"}})
	rec.StepStart(engine.StepInfo{Name: "back up MetaDB before upgrade", Module: "metadb_backup"})
	rec.HostResult(engine.HostResult{Step: "back up MetaDB before upgrade", Host: "oms1", Status: engine.StatusChanged,
		Msg:     "backed up [oms_rm] (3 tables, 4 rows) to /srv/state/omsrun/backups/metadb-20261206T061500Z.sql",
		Outputs: map[string]cty.Value{"path": cty.StringVal("/srv/state/omsrun/backups/metadb-20261206T061500Z.sql")}})
	rec.StepStart(engine.StepInfo{Name: "say", Module: "shell"})
	rec.HostResult(engine.HostResult{Step: "say", Host: "oms1", Status: engine.StatusChanged, Msg: "said Zx9-hunter2-Qq to /tmp"})

	// Before the recap, the record says the run has no end (running or killed).
	mid, err := Load(state, 1)
	if err != nil || mid.ExitCode != nil || mid.End != nil {
		t.Fatalf("mid-run record %+v, %v", mid, err)
	}
	if len(mid.Backups) != 1 || mid.Backups[0] != "/srv/state/omsrun/backups/metadb-20261206T061500Z.sql" {
		t.Errorf("backups %v", mid.Backups)
	}
	rec.Recap(engine.Recap{Duration: 1500 * time.Millisecond, ExitCode: 2})
	rec.Close()
	if inner.n != 6 {
		t.Errorf("the run's own output got %d events, want 6", inner.n)
	}

	got, err := Load(state, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got.ExitCode == nil || *got.ExitCode != 2 || got.DurationMS != 1500 || got.Playbook != "deploy.hcl" {
		t.Errorf("record %+v", got)
	}
	if got.Vars["image"] != "oms:1" || got.Vars["oms_meta_password"] != secret.Mask || got.Vars["marked"] != secret.Mask {
		t.Errorf("vars %v", got.Vars)
	}
	if n := got.Vars["nested"].(map[string]any); n["tsdb_password"] != secret.Mask || n["port"] != float64(8086) {
		t.Errorf("nested %v", n)
	}
	// No secret anywhere in the record's files.
	for _, f := range []string{filepath.Join(got.Dir, "run.json"), got.EventsFile()} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"hunter2", "plain-by-name", "Xv7-nested"} {
			if strings.Contains(string(b), s) {
				t.Errorf("%s shows a secret (%s):\n%s", f, s, b)
			}
		}
		if fi, _ := os.Stat(f); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", f, fi.Mode())
		}
	}
	if b, _ := os.ReadFile(got.EventsFile()); strings.Count(string(b), "\n") != 6 {
		t.Errorf("events:\n%s", b)
	}

	// The next run gets the next number; List has both, oldest first.
	rec2, err := Start(state, inner, Run{Playbook: "status.hcl", Redactor: red})
	if err != nil {
		t.Fatal(err)
	}
	rec2.Close()
	list, err := List(state)
	if err != nil || len(list) != 2 || list[0].Number != 1 || list[1].Number != 2 || list[1].Playbook != "status.hcl" {
		t.Fatalf("List = %v, %v", list, err)
	}
	if _, err := Load(state, 9); err == nil || !strings.Contains(err.Error(), "no run 9") {
		t.Errorf("Load(9) = %v", err)
	}
}
