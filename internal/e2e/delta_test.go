package e2e

import (
	"context"
	crand "crypto/rand"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/lab/image"
	"github.com/omsrun/omsrun/internal/lab/labtest"
	"github.com/omsrun/omsrun/modules/oms"
)

// changedBytes is the measure of an upgrade: the compressed size of
// the layers in to's archive whose diff IDs from lacks.
func changedBytes(t *testing.T, from, to string) (int64, image.Result) {
	t.Helper()
	a, err := image.Inspect(from)
	if err != nil {
		t.Fatal(err)
	}
	b, err := image.Inspect(to)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.LayerBytes) != len(b.DiffIDs) {
		t.Fatalf("%s: no per-layer sizes (%d sizes, %d layers)", to, len(b.LayerBytes), len(b.DiffIDs))
	}
	old := map[string]bool{}
	for _, d := range a.DiffIDs {
		old[d] = true
	}
	var n int64
	for i, d := range b.DiffIDs {
		if !old[d] {
			n += b.LayerBytes[i]
		}
	}
	return n, b
}

// TestDockerLoadDeltaE2E upgrades the lab's stand-in from v1 to v2 on the
// lab's dockerd (20.10, classic image store): only v2's changed layers
// cross the link, and the image that results is v2, byte for byte.
func TestDockerLoadDeltaE2E(t *testing.T) {
	l := labtest.Require(t)
	v1, v2 := l.Images["v1"], l.Images["v2"]
	changed, v2res := changedBytes(t, v1.Path, v2.Path)
	if changed*2 > v2res.Size {
		t.Fatalf("v2 changes %d of its %d bytes: the stand-in has no large shared layer", changed, v2res.Size)
	}
	// Bare hosts: an earlier test (an upgrade) may have v2 loaded and running.
	l.Reset(t)
	host := 0
	name := l.Hosts[host].Name
	t.Logf("on %s: %s", name, l.Exec(t, name, "docker version --format 'docker {{.Server.Version}}, driver '; docker info --format '{{.Driver}}'"))
	env, rep := dkEnv(t, l, host, false)
	if _, _, err := dkStep(t, env, "docker_load", &oms.DockerLoadArgs{File: v1.Path}, false); err != nil {
		t.Fatal(err)
	}

	before := l.VethBytes(t, name)
	plan, res, err := dkStep(t, env, "docker_load", &oms.DockerLoadArgs{File: v2.Path}, false)
	if err != nil {
		t.Fatal(err)
	}
	veth := l.VethBytes(t, name) - before
	sent, _ := res.Outputs["bytes_sent"].AsBigFloat().Int64()
	t.Logf("v1 → v2: plan %q; %s; sent %d bytes (veth %d), changed layers %d, whole file %d", plan.Summary, res.Msg, sent, veth, changed, v2res.Size)
	if !strings.Contains(plan.Summary, "missing layers") || len(rep.warns) > 0 {
		t.Errorf("plan %q, warnings %q: want a partial archive and no fallback", plan.Summary, rep.warns)
	}
	if float64(sent) > 1.1*float64(changed) {
		t.Errorf("sent %d bytes, more than 1.1× the changed layers' %d", sent, changed)
	}
	// The host's link carries packet headers and the few commands too.
	if float64(veth) > 1.2*float64(changed) {
		t.Errorf("the host's veth moved %d bytes for %d bytes of changed layers", veth, changed)
	}
	got := l.Exec(t, name, "docker image inspect --format '{{.Id}} {{json .RepoTags}}' "+v2.ID)
	if !strings.HasPrefix(got, v2.ID+" ") || !strings.Contains(got, v2.Ref) {
		t.Errorf("after the load: %q, want %s named %s", got, v2.ID, v2.Ref)
	}
	// The layers skipped and the layers sent are both in the image: the
	// runtime comes from v1's copy, the version from the partial archive.
	out := l.Exec(t, name, "docker run --rm --entrypoint /bin/sh "+v2.ID+" -c 'cat /etc/oms-standin/version; wc -c < /opt/runtime.bin; wc -c < /opt/app.bin'")
	if f := strings.Fields(out); len(f) != 3 || f[0] != "v2" || f[1] != "16777216" || f[2] != "4194304" {
		t.Errorf("v2's files: %q", out)
	}
}

// TestDockerLoadDeltaFallsBackE2E removes the shared layer between the
// check and the load: the partial archive then fails on the real dockerd,
// and the whole file follows.
func TestDockerLoadDeltaFallsBackE2E(t *testing.T) {
	l := labtest.Require(t)
	host := l.Hosts[0].Name
	nonce := make([]byte, 8)
	crand.Read(nonce)
	// The same random bytes in both images: the base layer is shared.
	baseData := make([]byte, 2<<20)
	crand.Read(baseData)
	base := image.Layer{Comment: "base", Stored: true, Files: []image.File{{Path: "base.bin", Mode: 0o644, Data: baseData}}}
	app := image.Layer{Comment: "app", Files: []image.File{{Path: "app.txt", Mode: 0o644, Data: []byte(fmt.Sprintf("%x", nonce))}}}
	dir := t.TempDir()
	baseImg, err := image.WriteFile(filepath.Join(dir, "base.tar.gz"), image.Spec{RepoTags: []string{"oms-e2e-delta:base"}, Config: image.Config{Cmd: []string{"/x"}}, Layers: []image.Layer{base}})
	if err != nil {
		t.Fatal(err)
	}
	appFile := filepath.Join(dir, "app.tar.gz")
	appImg, err := image.WriteFile(appFile, image.Spec{RepoTags: []string{"oms-e2e-delta:app"}, Config: image.Config{Cmd: []string{"/x"}}, Layers: []image.Layer{base, app}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		l.Run(context.Background(), host, "docker rmi -f "+appImg.ID+" "+baseImg.ID+" >/dev/null 2>&1")
	})
	env, rep := dkEnv(t, l, 0, false)
	if _, _, err := dkStep(t, env, "docker_load", &oms.DockerLoadArgs{File: filepath.Join(dir, "base.tar.gz")}, false); err != nil {
		t.Fatal(err)
	}
	m := oms.NewDockerLoad()
	args := &oms.DockerLoadArgs{File: appFile}
	if err := m.Validate(args); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	plan, err := m.Check(ctx, env, args)
	if err != nil || !strings.Contains(plan.Summary, "1 missing layers of 2") {
		t.Fatalf("plan %+v, %v", plan, err)
	}
	l.Exec(t, host, "docker rmi "+baseImg.ID+" >/dev/null")
	res, err := m.Apply(ctx, env, args, plan)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s; warnings %q", res.Msg, rep.warns)
	if len(rep.warns) != 1 || !strings.Contains(rep.warns[0], "partial archive failed") || !strings.Contains(res.Msg, "sent the whole file instead") {
		t.Errorf("warnings %q, message %q: want the fallback said", rep.warns, res.Msg)
	}
	if got := l.Exec(t, host, "docker image inspect --format '{{.Id}}' "+appImg.ID); got != appImg.ID {
		t.Errorf("after the fallback: %q", got)
	}
}
