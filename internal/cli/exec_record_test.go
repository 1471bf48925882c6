package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExecCommandRecorded: exec's command is written to its run record and
// shown by `omsrun history` (not just "exec"), with the secrets in it masked.
// The one host refuses the connection, so no lab is needed: the record is
// written before the first connection.
func TestExecCommandRecorded(t *testing.T) {
	dir := t.TempDir()
	hosts := filepath.Join(dir, "hosts.ini")
	os.WriteFile(hosts, []byte("[oms]\nh1 ansible_host=127.0.0.1 ansible_port=1 ansible_ssh_pass=Ip0Inv-Ss90Qa\n"), 0o600)
	t.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	secrets := []string{"Ep1Echo-Mx31Kd", "Fp2Flag-Ny42Le", "Gp3Argv-Oz53Mf", "Hp4Arg-Pa64Ng", "Ip0Inv-Ss90Qa", "Jp5My-Qb75Oh", "Kp6Sh-Rc86Pi", "Lp7Sp-Sd97Qj", "Mp8Cmd-Te08Rk"}
	runs := []struct {
		args []string
		want string
	}{
		{[]string{"--", "docker", "rm", "-f", "oms"}, "exec -- docker rm -f oms on 1 host(s)"},
		{[]string{"--", "uptime"}, "exec -- uptime on 1 host(s)"},
		{[]string{"--", "sh", "-c", "mysql --password Fp2Flag-Ny42Le -e 'select 1' && echo Ip0Inv-Ss90Qa", "TSDB_PASSWORD=Ep1Echo-Mx31Kd"},
			`exec -- sh -c 'mysql --password ******** -e '"'"'select 1'"'"' && echo ********' TSDB_PASSWORD=******** on 1 host(s)`},
		{[]string{"-m", "command", "-a", `argv='["mysql","--password","Gp3Argv-Oz53Mf"]' chdir=/tmp`},
			`exec -m command -a "'argv=[\"mysql\",\"--password\",\"********\"]' chdir=/tmp" on 1 host(s)`},
		{[]string{"-m", "shell", "-a", `cmd='MYSQL_PWD=Hp4Arg-Pa64Ng mysql -e "select 1"'`},
			`exec -m shell -a "'cmd=MYSQL_PWD=******** mysql -e \"select 1\"'" on 1 host(s)`},
		{[]string{"--", "mysql", "-uroot", "-pJp5My-Qb75Oh", "-P", "3306"}, "exec -- mysql -uroot -p******** -P 3306 on 1 host(s)"},
		{[]string{"--", "sh", "-c", "mysql -pKp6Sh-Rc86Pi -e 'select 1'; docker run -p 8088:8088 oms"},
			`exec -- sh -c 'mysql -p******** -e '"'"'select 1'"'"'; docker run -p 8088:8088 oms' on 1 host(s)`},
		{[]string{"--", "sshpass", "-p", "Lp7Sp-Sd97Qj", "ssh", "-p", "22", "root@h"}, "exec -- sshpass -p ******** ssh -p 22 root@h on 1 host(s)"},
		{[]string{"-m", "shell", "-a", `cmd='obclient -h127.0.0.1 -P2881 -pMp8Cmd-Te08Rk'`},
			`exec -m shell -a "'cmd=obclient -h127.0.0.1 -P2881 -p********'" on 1 host(s)`},
	}
	for _, r := range runs {
		args := append([]string{"exec", "-i", hosts, "oms"}, r.args...)
		if _, errOut, code := run(args...); code != 3 {
			t.Fatalf("%v: exit %d, want 3 (the host refuses the connection)\n%s", r.args, code, errOut)
		}
	}
	list, _, code := run("history")
	if code != 0 {
		t.Fatalf("history: exit %d", code)
	}
	shown := list
	for i, r := range runs {
		if !strings.Contains(list, r.want) {
			t.Errorf("history does not name run %d's command as %q:\n%s", i+1, r.want, list)
		}
		one, _, _ := run("history", string(rune('1'+i)))
		if !strings.Contains(one, "run "+string(rune('1'+i))+": exec -") {
			t.Errorf("history %d does not name the command:\n%s", i+1, one)
		}
		shown += one
	}
	filepath.WalkDir(filepath.Join(dir, "state"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			shown += string(b)
		}
		return nil
	})
	for _, s := range secrets {
		if strings.Contains(shown, s) {
			t.Errorf("the record shows the secret %q:\n%s", s, shown)
		}
	}
}

// TestExecProblemSnippetMasked: a problem with exec's arguments shows the
// command line in its snippet with the secrets in it masked, as recorded.
func TestExecProblemSnippetMasked(t *testing.T) {
	dir := t.TempDir()
	hosts := filepath.Join(dir, "hosts.ini")
	os.WriteFile(hosts, []byte("[oms]\nh1 ansible_host=127.0.0.1 ansible_port=1\n"), 0o600)
	t.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	out, errOut, code := run("exec", "-i", hosts, "oms", "-m", "shell", "-a", `cmd='mysql -pNp9Snip-Uf19Sl' bogus=1`)
	if code == 0 {
		t.Fatalf("an unknown argument was accepted:\n%s%s", out, errOut)
	}
	if !strings.Contains(errOut, "Unsupported argument") || !strings.Contains(errOut, "-p********") {
		t.Fatalf("the problem or its masked snippet is missing:\n%s", errOut)
	}
	if strings.Contains(out+errOut, "Np9Snip-Uf19Sl") {
		t.Fatalf("the problem shows the secret:\n%s%s", out, errOut)
	}
}
