package e2e

import (
	"os"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/lab/labtest"
)

// Day-2 operations on a deployed cluster: upgrade, scale-in, node
// replacement, uninstall.

// freshCluster deploys v1 on the first n lab hosts, cm_nodes from the inventory.
func freshCluster(t *testing.T, l *labtest.Lab, n int) string {
	t.Helper()
	l.Reset(t)
	l.DropMetaDatabases(t)
	inv := inventoryOf(t, l, n)
	expectCode(t, deploy(t, l, "deploy.hcl", inv, "-e", "cm_nodes=[]"), 0)
	return inv
}

// runningImage is the image ID of the oms container on host.
func runningImage(t *testing.T, l *labtest.Lab, host string) string {
	return l.Exec(t, host, "docker inspect --format '{{.Image}}' oms")
}

func TestUninstallWithPurge(t *testing.T) {
	l := labtest.Require(t)
	inv := freshCluster(t, l, 2)
	// --check says what it would delete and deletes nothing.
	r := deploy(t, l, "uninstall.hcl", inv, "-e", "purge=true", "--check")
	expectCode(t, r, 0)
	if !strings.Contains(r.stdout, "drop databases") {
		t.Fatalf("check should name the databases:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "would ask first: purge: delete ") || !strings.Contains(r.stdout, "would ask first: purge: drop the MetaDB databases") {
		t.Fatalf("check should say what the real run asks:\n%s", r.stdout)
	}
	if got := l.Exec(t, l.Hosts[0].Name, "docker ps -q | wc -l"); got != "1" {
		t.Fatalf("check mode removed the container")
	}
	// Without a terminal and without --yes, purge refuses before its first
	// step: the containers, which the first step removes, are still there.
	r = deploy(t, l, "uninstall.hcl", inv, "-e", "purge=true")
	expectCode(t, r, 5)
	if !strings.Contains(r.stdout, "--yes") || !strings.Contains(r.stdout, "nothing was changed") {
		t.Fatalf("the refusal should mention --yes and that nothing changed:\n%s", r.stdout)
	}
	r = deploy(t, l, "uninstall.hcl", inv, "-e", "purge=true", "--json")
	expectCode(t, r, 5)
	if !strings.Contains(r.stdout, `"exit_code":5`) || strings.Contains(r.stdout, `"host_result"`) {
		t.Fatalf("the JSON recap should carry exit code 5 and no step ran:\n%s", r.stdout)
	}
	for _, h := range l.Hosts[:2] {
		if got := l.Exec(t, h.Name, "docker ps -q | wc -l"); got != "1" {
			t.Fatalf("%s: a refused purge removed the container", h.Name)
		}
	}
	expectCode(t, deploy(t, l, "uninstall.hcl", inv, "-e", "purge=true", "--yes"), 0)
	for _, h := range l.Hosts[:2] {
		if got := l.Exec(t, h.Name, "docker ps -aq; ls -d /data/oms 2>/dev/null || true"); got != "" {
			t.Errorf("%s after purge: %q", h.Name, got)
		}
	}
	if dbs := l.MetaSQL(t, "SHOW DATABASES"); strings.Contains(dbs, "oms_rm") {
		t.Errorf("databases left after purge: %s", dbs)
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := t.TempDir() + "/" + name
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
