package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/omsrun/omsrun/internal/lab/labtest"
	"github.com/omsrun/omsrun/internal/metadb"
	"github.com/omsrun/omsrun/internal/omsconfig"
	"github.com/omsrun/omsrun/internal/remotefile"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/inventory"
	"github.com/omsrun/omsrun/modules"
	"github.com/omsrun/omsrun/modules/oms"
)

// cfgHost connects to a lab host over the real SSH transport, as root.
func cfgHost(t *testing.T, l *labtest.Lab, i int) transport.Host {
	t.Helper()
	return cfgHostAs(t, l, i, &inventory.Host{User: "root"})
}

// cfgHostAs connects with the user and become settings of as.
func cfgHostAs(t *testing.T, l *labtest.Lab, i int, as *inventory.Host) transport.Host {
	t.Helper()
	pool := transport.NewPool(transport.Config{KnownHostsFile: l.KnownHosts, SSHConfigFile: "none"})
	t.Cleanup(func() { pool.Close() })
	lh := l.Hosts[i]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ih := *as
	ih.Name, ih.Address, ih.Port, ih.KeyFile, ih.KnownHostsFile = lh.Name, lh.Address, 22, l.Key, l.KnownHosts
	h, err := pool.Get(ctx, &ih)
	if err != nil {
		t.Fatalf("connect to %s: %v", lh.Name, err)
	}
	return h
}

type cfgReport struct{}

func (cfgReport) Phase(string)       {}
func (cfgReport) Bytes(int64, int64) {}
func (cfgReport) Warn(string)        {}

// cfgNames are database names unique to this test run, so it never meets
// another test's databases.
func cfgNames() []string {
	p := fmt.Sprintf("omsrun_cfg%d", os.Getpid())
	return []string{p + "_rm", p + "_cm", p + "_cm_hb"}
}

func TestMetadbCheckOnLab(t *testing.T) {
	l := labtest.Require(t)
	ctx := context.Background()
	names := cfgNames()
	t.Cleanup(func() {
		for _, n := range names {
			l.MetaSQL(t, "DROP DATABASE IF EXISTS `"+n+"`")
		}
	})
	base := func() *oms.MetadbCheckArgs {
		return &oms.MetadbCheckArgs{Host: l.MetaDB.Host, Port: l.MetaDB.Port, User: l.MetaDB.User, Password: l.MetaDB.Password, Databases: names}
	}
	env := &modules.Env{HostName: l.Hosts[0].Name, Address: l.Hosts[0].Address, Report: cfgReport{}}
	m := &oms.MetadbCheck{}

	t.Run("good", func(t *testing.T) {
		p, err := m.Check(ctx, env, base())
		if err != nil {
			t.Fatal(err)
		}
		res, err := m.Apply(ctx, env, base(), p)
		if err != nil || res.Changed {
			t.Fatalf("apply = %+v, %v", res, err)
		}
		if v := res.Outputs["version"].AsString(); !strings.Contains(strings.ToLower(v), "mariadb") {
			t.Fatalf("version = %q", v)
		}
		if res.Outputs["existing"].LengthInt() != 0 || res.Outputs["absent"].LengthInt() != 3 {
			t.Fatalf("outputs = %#v", res.Outputs)
		}
	})

	t.Run("via host", func(t *testing.T) {
		a := base()
		a.ViaHost = true
		henv := *env
		henv.Host = cfgHost(t, l, 0)
		if _, err := m.Check(ctx, &henv, a); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("unreachable via host", func(t *testing.T) {
		a := base()
		a.ViaHost, a.Port, a.Timeout = true, 1, ptrTo("3s")
		henv := *env
		henv.Host = cfgHost(t, l, 0)
		_, err := m.Check(ctx, &henv, a)
		var me *metadb.Error
		if !errors.As(err, &me) || me.Kind != metadb.Unreachable || !strings.Contains(err.Error(), "connecting from host "+l.Hosts[0].Name) {
			t.Fatalf("err = %v; want the unreachable message naming the host", err)
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		a := base()
		a.Password = "not-the-password"
		_, err := m.Check(ctx, env, a)
		var me *metadb.Error
		if !errors.As(err, &me) || me.Kind != metadb.AccessDenied || !strings.Contains(err.Error(), "wrong user name or password") {
			t.Fatalf("err = %v; want the wrong-password message", err)
		}
		if strings.Contains(err.Error(), "not-the-password") {
			t.Fatal("the password is in the message")
		}
	})

	t.Run("unreachable port", func(t *testing.T) {
		a := base()
		a.Port, a.Timeout = 1, ptrTo("3s")
		_, err := m.Check(ctx, env, a)
		var me *metadb.Error
		if !errors.As(err, &me) || me.Kind != metadb.Unreachable || !strings.Contains(err.Error(), "cannot reach the MetaDB") {
			t.Fatalf("err = %v; want the unreachable message", err)
		}
	})

	t.Run("missing privileges", func(t *testing.T) {
		user := fmt.Sprintf("omsrun_np%d", os.Getpid())
		l.MetaSQL(t, "CREATE USER '"+user+"'@'%' IDENTIFIED BY 'np-Pass1'")
		t.Cleanup(func() { l.MetaSQL(t, "DROP USER IF EXISTS '"+user+"'@'%'") })
		a := base()
		a.User, a.Password = user, "np-Pass1"
		_, err := m.Check(ctx, env, a)
		var me *metadb.Error
		if !errors.As(err, &me) || me.Kind != metadb.NoPrivilege || !strings.Contains(err.Error(), "lacks privileges") {
			t.Fatalf("err = %v; want the privileges message", err)
		}
	})

	t.Run("existing databases", func(t *testing.T) {
		l.MetaSQL(t, "CREATE DATABASE `"+names[0]+"`")
		_, err := m.Check(ctx, env, base())
		if err == nil || !strings.Contains(err.Error(), "The specified database names already exist in the MetaDB: "+names[0]) {
			t.Fatalf("err = %v; want the seed's warning", err)
		}
		for name, edit := range map[string]func(*oms.MetadbCheckArgs, *modules.Env){
			"allow_existing":      func(a *oms.MetadbCheckArgs, _ *modules.Env) { a.AllowExisting = true },
			"existing_deployment": func(a *oms.MetadbCheckArgs, _ *modules.Env) { a.ExistingDeployment = true },
			"--yes":               func(_ *oms.MetadbCheckArgs, e *modules.Env) { e.Yes = true },
		} {
			a, e := base(), *env
			edit(a, &e)
			p, err := m.Check(ctx, &e, a)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			res, err := m.Apply(ctx, &e, a, p)
			if err != nil || res.Outputs["existing"].LengthInt() != 1 {
				t.Fatalf("%s: %+v, %v", name, res, err)
			}
		}
	})
}

func ptrTo[T any](v T) *T { return &v }

// cfgDir makes a fresh directory under /data on the host and removes it afterwards.
func cfgDir(t *testing.T, l *labtest.Lab, host string) string {
	t.Helper()
	dir := fmt.Sprintf("/data/omsrun-cfgtest-%d-%d", os.Getpid(), time.Now().UnixNano())
	l.Exec(t, host, "mkdir -p "+dir)
	t.Cleanup(func() { l.Run(context.Background(), host, "rm -rf "+dir) })
	return dir
}

func TestRemoteFileBindMountOnLab(t *testing.T) {
	l := labtest.Require(t)
	if !l.Docker {
		t.Fatal("the lab runs without Docker; this test needs it (LAB_DOCKER=1)")
	}
	lh := l.Hosts[0].Name
	h := cfgHost(t, l, 0)
	ctx := context.Background()
	dir := cfgDir(t, l, lh)
	path := dir + "/config.yaml"
	if _, err := remotefile.Write(ctx, h, remotefile.File{Path: path, Content: []byte("cm_location: 1\n")}); err != nil {
		t.Fatal(err)
	}

	// A plain container that bind-mounts the single file, as OMS mounts config.yaml.
	// Its image is the host's own static busybox, imported on the spot.
	name := fmt.Sprintf("omsrun-cfgtest-%d", os.Getpid())
	img := "omsrun-cfgtest-busybox:1"
	l.Exec(t, lh, `set -e
r=$(mktemp -d); mkdir -p $r/bin; cp /usr/bin/busybox $r/bin/busybox
tar -C $r -c . | docker import - `+img+` >/dev/null; rm -rf $r
docker rm -f `+name+` >/dev/null 2>&1 || true
docker run -d --name `+name+` -v `+path+`:/conf/config.yaml `+img+` /bin/busybox sleep 600 >/dev/null
for i in $(seq 50); do docker exec `+name+` /bin/busybox true 2>/dev/null && exit 0; sleep 0.1; done
docker ps -a; exit 1`)
	t.Cleanup(func() { l.Run(context.Background(), lh, "docker rm -f "+name+"; docker rmi "+img) })
	if got := l.Exec(t, lh, "docker exec "+name+" /bin/busybox cat /conf/config.yaml"); got != "cm_location: 1" {
		t.Fatalf("container sees %q before the rewrite", got)
	}

	res, err := remotefile.Write(ctx, h, remotefile.File{Path: path, Content: []byte("cm_location: 2\n"), Backup: true})
	if err != nil || !res.Content {
		t.Fatalf("rewrite = %+v, %v", res, err)
	}
	if got := l.Exec(t, lh, "docker exec "+name+" /bin/busybox cat /conf/config.yaml"); got != "cm_location: 2" {
		t.Fatalf("the running container still sees %q after the rewrite: the file was not written in place", got)
	}
	if got := l.Exec(t, lh, "stat -c %a "+res.Backup+"; cat "+res.Backup); got != "600\ncm_location: 1" {
		t.Fatalf("backup = %q", got)
	}

	// The control: the usual atomic write (rename over the file) is what the
	// container does not see, which is why remotefile writes in place.
	l.Exec(t, lh, "printf 'cm_location: 3\\n' > "+path+".new && mv "+path+".new "+path)
	if got := l.Exec(t, lh, "docker exec "+name+" /bin/busybox cat /conf/config.yaml"); got != "cm_location: 2" {
		t.Fatalf("after a rename the container sees %q; the premise of in-place writes no longer holds", got)
	}
}

func TestRenderConfigOnLab(t *testing.T) {
	l := labtest.Require(t)
	lh := l.Hosts[2]
	h := cfgHost(t, l, 2)
	ctx := context.Background()
	dir := cfgDir(t, l, lh.Name)
	rm, cm, hb := omsconfig.DBNamesFromPrefix("oms")
	a := &oms.RenderConfigArgs{
		Path:        dir + "/config.yaml",
		OmsMetaHost: l.MetaDB.Host, OmsMetaPort: l.MetaDB.Port, OmsMetaUser: l.MetaDB.User, OmsMetaPassword: l.MetaDB.Password,
		DrcRmDB: &rm, DrcCmDB: &cm, DrcCmHeartbeatDB: &hb,
		CMURL: l.VIP, CMLocation: 1, DeploymentHosts: l.Addresses(),
	}
	m := &oms.RenderConfig{}
	if err := m.Validate(a); err != nil {
		t.Fatal(err)
	}
	env := &modules.Env{Host: h, HostName: lh.Name, Address: lh.Address, Diff: true, Report: cfgReport{}}
	p, err := m.Check(ctx, env, a)
	if err != nil || !p.Change {
		t.Fatalf("check = %+v, %v", p, err)
	}
	if strings.Contains(p.Diff, l.MetaDB.Password) {
		t.Fatal("the MetaDB password is in the diff")
	}
	if res, err := m.Apply(ctx, env, a, p); err != nil || !res.Changed {
		t.Fatalf("apply = %+v, %v", res, err)
	}
	data := l.Exec(t, lh.Name, "cat "+a.Path)
	c, diags := omsconfig.Parse([]byte(data), "config.yaml")
	if diags.HasErrors() || c.MetaPassword.Reveal() != l.MetaDB.Password || c.CMURL != l.CMURL || len(c.CMNodes) != len(l.Hosts) {
		t.Fatalf("written config reads back as %+v (%v)", c, diags)
	}
	if mode := l.Exec(t, lh.Name, "stat -c %a "+a.Path); mode != "600" {
		t.Fatalf("mode = %s", mode)
	}
	if p, err := m.Check(ctx, env, a); err != nil || p.Change {
		t.Fatalf("second check = %+v, %v; want no change", p, err)
	}
}

func TestRemoteFileBecomeOnLab(t *testing.T) {
	l := labtest.Require(t)
	lh := l.Hosts[0].Name
	h := cfgHostAs(t, l, 0, &inventory.Host{User: l.DeployUser, Become: true, BecomePassword: secret.String(l.DeployPassword)})
	ctx := context.Background()
	dir := cfgDir(t, l, lh)
	path := dir + "/config.yaml"
	// The sudo password travels on the same stdin as the content: the file
	// must hold the content and nothing else.
	content := []byte("oms_meta_password: \"" + l.MetaDB.Password + "\"\n")
	res, err := remotefile.Write(ctx, h, remotefile.File{Path: path, Content: content, Owner: "root:root", Become: true})
	if err != nil || !res.Create {
		t.Fatalf("write through sudo = %+v, %v", res, err)
	}
	if got := l.Exec(t, lh, "stat -c '%a %U' "+path+"; cat "+path); got != "600 root\n"+strings.TrimSpace(string(content)) {
		t.Fatalf("file = %q", got)
	}
	res, err = remotefile.Write(ctx, h, remotefile.File{Path: path, Content: content, Owner: "root:root", Become: true})
	if err != nil || res.Changed() {
		t.Fatalf("second write = %+v, %v; want unchanged", res, err)
	}
}

func TestRemoteFileDiskFullOnLab(t *testing.T) {
	l := labtest.Require(t)
	lh := l.Hosts[1].Name
	h := cfgHost(t, l, 1)
	ctx := context.Background()
	dir := cfgDir(t, l, lh)
	path := dir + "/config.yaml"
	before := []byte("oms_meta_password: \"before\"\n")
	if _, err := remotefile.Write(ctx, h, remotefile.File{Path: path, Content: before}); err != nil {
		t.Fatal(err)
	}

	l.FillData(t, lh, 64)
	big := bytes.Repeat([]byte("# padding line to outgrow the free space\n"), 1<<15) // 1.3 MB
	_, err := remotefile.Write(ctx, h, remotefile.File{Path: path, Content: big, Backup: true})
	if !errors.Is(err, remotefile.ErrNoSpace) {
		t.Fatalf("err = %v; want a no-space error", err)
	}
	if !strings.Contains(err.Error(), "no space left on device in "+dir) || !strings.Contains(err.Error(), "previous content is intact") {
		t.Fatalf("message = %q", err)
	}
	if got := l.Exec(t, lh, "cat "+path); got+"\n" != string(before) {
		t.Fatalf("content after the failed write = %q", got)
	}
	if left := l.Exec(t, lh, "ls -A "+dir); left != "config.yaml" {
		t.Fatalf("files left in %s: %q", dir, left)
	}

	l.FreeData(t, lh)
	if _, err := remotefile.Write(ctx, h, remotefile.File{Path: path, Content: big}); err != nil {
		t.Fatalf("write after freeing space: %v", err)
	}
}
