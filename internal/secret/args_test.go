package secret

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestMaskArgs: a recorded command line hides every secret it can see by
// name or by a well-known client's flag, in each way a command gives one,
// and keeps the rest word for word — a port after ssh's or docker's -p too.
func TestMaskArgs(t *testing.T) {
	cases := []struct {
		name     string
		in, want []string
	}{
		{"plain", []string{"docker", "rm", "-f", "oms"}, []string{"docker", "rm", "-f", "oms"}},
		{"flag=value", []string{"mysql", "--password=s1", "-h", "db"}, []string{"mysql", "--password=" + Mask, "-h", "db"}},
		{"flag value", []string{"mysql", "--password", "s2", "-h", "db"}, []string{"mysql", "--password", Mask, "-h", "db"}},
		{"env", []string{"env", "TSDB_PASSWORD=s3", "ls"}, []string{"env", "TSDB_PASSWORD=" + Mask, "ls"}},
		{"module args", []string{"cmd=echo hi", "password=s4"}, []string{"cmd=echo hi", "password=" + Mask}},
		{"inner command", []string{"sh", "-c", "mysql -u root --password s5 && echo ok"}, []string{"sh", "-c", "mysql -u root --password " + Mask + " && echo ok"}},
		{"path kept", []string{"--key-file", "/root/id"}, []string{"--key-file", "/root/id"}},

		{"mysql -p", []string{"mysql", "-uroot", "-pS3cretPw", "-P", "3306"}, []string{"mysql", "-uroot", "-p" + Mask, "-P", "3306"}},
		{"mysql by path", []string{"/usr/bin/mysql", "-pS1"}, []string{"/usr/bin/mysql", "-p" + Mask}},
		{"mysql bare -p prompts", []string{"mysql", "-p", "oms_db"}, []string{"mysql", "-p", "oms_db"}},
		{"mysqldump", []string{"mysqldump", "-h", "db", "-pS2", "oms"}, []string{"mysqldump", "-h", "db", "-p" + Mask, "oms"}},
		{"mysqladmin", []string{"mysqladmin", "-pS3", "ping"}, []string{"mysqladmin", "-p" + Mask, "ping"}},
		{"mariadb", []string{"mariadb", "-pS4"}, []string{"mariadb", "-p" + Mask}},
		{"mariadb-dump", []string{"mariadb-dump", "-pS5", "oms"}, []string{"mariadb-dump", "-p" + Mask, "oms"}},
		{"obclient", []string{"obclient", "-h127.0.0.1", "-P2881", "-uroot@sys", "-pS6"}, []string{"obclient", "-h127.0.0.1", "-P2881", "-uroot@sys", "-p" + Mask}},
		{"mysqlsh", []string{"mysqlsh", "-pS7", "root:S8@db:3306"}, []string{"mysqlsh", "-p" + Mask, "root:" + Mask + "@db:3306"}},
		{"mysql --password", []string{"mysql", "--password", "S9"}, []string{"mysql", "--password", Mask}},
		{"docker exec mysql", []string{"docker", "exec", "-it", "oms-meta", "mysql", "-uroot", "-pS10"}, []string{"docker", "exec", "-it", "oms-meta", "mysql", "-uroot", "-p" + Mask}},
		{"sh -c mysql", []string{"sh", "-c", "mysql -pS11 -e 'select 1'"}, []string{"sh", "-c", "mysql -p" + Mask + " -e 'select 1'"}},
		{"sh -c quoted mysql", []string{"bash", "-c", "ssh -p 22 db 'mysql -pS12'"}, []string{"bash", "-c", "ssh -p 22 db 'mysql -p" + Mask}},
		{"module cmd mysql", []string{"cmd=mysql -pS13 -e 'select 1'"}, []string{"cmd=mysql -p" + Mask + " -e 'select 1'"}},
		{"sshpass", []string{"sshpass", "-p", "S14", "ssh", "-p", "22", "h"}, []string{"sshpass", "-p", Mask, "ssh", "-p", "22", "h"}},
		{"sshpass attached", []string{"sshpass", "-pS15", "scp", "-P", "22", "f", "h:"}, []string{"sshpass", "-p" + Mask, "scp", "-P", "22", "f", "h:"}},
		{"sshpass -f then ssh", []string{"sshpass", "-f", "/root/pw", "ssh", "-p", "2222", "h"}, []string{"sshpass", "-f", "/root/pw", "ssh", "-p", "2222", "h"}},
		{"sshpass -e", []string{"SSHPASS=S16", "sshpass", "-e", "ssh", "h"}, []string{"SSHPASS=" + Mask, "sshpass", "-e", "ssh", "h"}},
		{"sshpass then mysql", []string{"sshpass", "-p", "S17", "ssh", "h", "mysql", "-pS18"}, []string{"sshpass", "-p", Mask, "ssh", "h", "mysql", "-p" + Mask}},
		{"redis-cli", []string{"redis-cli", "-h", "r", "-p", "6379", "-a", "S19", "ping"}, []string{"redis-cli", "-h", "r", "-p", "6379", "-a", Mask, "ping"}},
		{"redis-cli url", []string{"redis-cli", "-u", "redis://:S20@r:6379"}, []string{"redis-cli", "-u", "redis://:" + Mask + "@r:6379"}},
		{"REDISCLI_AUTH", []string{"env", "REDISCLI_AUTH=S21", "redis-cli", "ping"}, []string{"env", "REDISCLI_AUTH=" + Mask, "redis-cli", "ping"}},

		{"ssh port kept", []string{"ssh", "-p", "22", "root@h"}, []string{"ssh", "-p", "22", "root@h"}},
		{"ssh attached port kept", []string{"ssh", "-p2222", "h"}, []string{"ssh", "-p2222", "h"}},
		{"docker port kept", []string{"docker", "run", "-d", "-p", "8088:8088", "oms"}, []string{"docker", "run", "-d", "-p", "8088:8088", "oms"}},
		{"docker attached port kept", []string{"docker", "run", "-p8088:8088", "oms"}, []string{"docker", "run", "-p8088:8088", "oms"}},
		{"after mysql, ssh port kept", []string{"sh", "-c", "mysql -pS22 -e 'select 1'; ssh -p 22 h && docker run -p8088:8088 x"}, []string{"sh", "-c", "mysql -p" + Mask + " -e 'select 1'; ssh -p 22 h && docker run -p8088:8088 x"}},
		{"separate ;", []string{"mysql", "-pS23", ";", "ssh", "-p2222", "h"}, []string{"mysql", "-p" + Mask, ";", "ssh", "-p2222", "h"}},
		{"mysql -P port kept", []string{"mysql", "-P3306", "-h", "db"}, []string{"mysql", "-P3306", "-h", "db"}},
		{"redis-cli -p port kept", []string{"redis-cli", "-p", "6380"}, []string{"redis-cli", "-p", "6380"}},
		{"mysqlsh host kept", []string{"mysqlsh", "root@db:3306"}, []string{"mysqlsh", "root@db:3306"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := MaskArgs(c.in); fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Fatalf("MaskArgs(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

// TestMaskJSON: a secret key's value is masked whatever it is — a string,
// a number, null, an object or an array — and the JSON stays valid, with
// the keys around it kept.
func TestMaskJSON(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"string", `{"password":"s\"1","port":8088}`, `{"password":"********","port":8088}`},
		{"object", `{"password":{"value":"s2","n":[1,"}"]},"port":8088}`, `{"password":"********","port":8088}`},
		{"array", `{"passwords": ["s3", "s4"], "user": "oms"}`, `{"passwords": "********", "user": "oms"}`},
		{"nested secret", `{"db":{"oms_meta_password":"s5","host":"h"},"tokens":[]}`, `{"db":{"oms_meta_password":"********","host":"h"},"tokens":[]}`},
		{"array of objects", `[{"name":"a","secret":{"k":"s6"}},{"name":"b","secret":null}]`, `[{"name":"a","secret":"********"},{"name":"b","secret":"********"}]`},
		{"pretty", "{\n  \"api_token\": {\n    \"v\": \"s7\"\n  },\n  \"x\": 1\n}", "{\n  \"api_token\": \"********\",\n  \"x\": 1\n}"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := MaskKeyLines(c.in)
			if got != c.want {
				t.Fatalf("MaskKeyLines(%q) = %q, want %q", c.in, got, c.want)
			}
			if !json.Valid([]byte(got)) {
				t.Fatalf("masked JSON is not valid: %s", got)
			}
		})
	}
	// Cut-off JSON hides the rest rather than a part of the secret.
	if got := MaskKeyLines(`{"password":{"v":"s8`); strings.Contains(got, "s8") {
		t.Fatalf("cut-off JSON shows the secret: %s", got)
	}
}
