package e2e

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/omsrun/omsrun/internal/lab/labtest"
)

// The matrix's lab states and how it compares them.

// bare returns every lab host to bare and drops the OMS databases.
func (m *matrix) bare() {
	m.l.Reset(m.t)
	m.l.SetStartupDelay(m.t, "/data/oms", matrixStartup)
}

// cluster leaves OMS deployed with the lab's vars on the first n hosts and
// the others bare. deploy.hcl converges from whatever the last case left,
// except a node beyond n that OMS still counts as its own (its row in the
// CM host table: the last case left 3 nodes), which deploy.hcl rightly
// refuses: then every node and the MetaDB start over, keeping the image on
// the first n. Measured on six scale-out cases (1 s start-up), that took
// 3.8–6.2 s where scale-in.hcl, the operator's way, took 7.5–8.5 (its
// reload of the remaining nodes one at a time, then deploy.hcl), and a
// deploy refused first, then bare hosts, 6.1–7.8. When deploy.hcl still
// fails (a case that did not converge), the lab starts from bare hosts.
func (m *matrix) cluster(n int) {
	wipe := m.l.Hosts[n:]
	for _, ip := range m.registered() {
		if !slices.ContainsFunc(m.l.Hosts[:n], func(h labtest.Host) bool { return h.Address == ip }) {
			wipe = m.l.Hosts
			m.l.DropMetaDatabases(m.t)
			break
		}
	}
	for i, h := range wipe {
		script := `ids=$(docker ps -aq); [ -z "$ids" ] || docker rm -f -v $ids >/dev/null
find /data -mindepth 1 -maxdepth 1 -exec rm -rf {} +
rm -rf /var/lock/omsrun`
		if len(wipe) == len(m.l.Hosts) && i < n {
			m.l.Exec(m.t, h.Name, script)
			continue
		}
		m.l.Exec(m.t, h.Name, script+`
ids=$(docker images -aq | sort -u); [ -z "$ids" ] || docker rmi -f $ids >/dev/null`)
	}
	m.l.SetStartupDelay(m.t, "/data/oms", matrixStartup)
	op := matrixOp{hosts: n}
	if r := m.omsrun(op, "playbooks/deploy.hcl"); r.code != 0 {
		m.t.Logf("deploy to set up %d nodes exits %d (%s); starting from bare hosts", n, r.code, lastError(r.stdout))
		m.bare()
		if r := m.omsrun(op, "playbooks/deploy.hcl"); r.code != 0 {
			m.t.Fatalf("deploy on %d bare nodes exits %d:\n%s", n, r.code, r.stdout)
		}
	}
}

// registered lists the addresses of the CM host table's rows (none when
// OMS never created it).
func (m *matrix) registered() []string {
	if m.l.MetaSQL(m.t, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'oms_cm' AND table_name = 'host'") != "1" {
		return nil
	}
	return strings.Fields(m.l.MetaSQL(m.t, "SELECT ip FROM oms_cm.host ORDER BY ip"))
}

// snapshot is what the lab's nodes and MetaDB hold and what status.hcl
// reports, one fact a line, in an order that does not depend on timing.
func (m *matrix) snapshot(op matrixOp) string {
	var lines []string
	for _, h := range m.l.Hosts {
		out := m.l.Exec(m.t, h.Name, `docker inspect --format '{{.State.Status}} {{.Image}}' oms 2>/dev/null || echo absent
echo @@
docker inspect --format '{{range .Config.Env}}{{println .}}{{end}}' oms 2>/dev/null | grep -v '^$' | sort
echo @@
docker images -q --no-trunc | sort -u
echo @@
sha256sum < /data/oms/config.yaml 2>/dev/null | cut -d' ' -f1
echo @@
cat /data/oms/config.yaml.loaded-sha256 2>/dev/null
echo @@
ls -1 /data/oms 2>/dev/null | grep -v '^config.yaml' | sort
echo @@
cat /var/lock/omsrun/lock 2>/dev/null || true`)
		parts := strings.Split(out, "@@")
		names := []string{"container", "env", "images", "config.yaml sha256", "loaded sha256", "mount dir", "lock"}
		for i, name := range names {
			v := ""
			if i < len(parts) {
				v = strings.Join(strings.Fields(parts[i]), " ")
			}
			lines = append(lines, fmt.Sprintf("%s %s: %s", h.Name, name, v))
		}
		lines = append(lines, h.Name+" running config: "+runningConfig(h.Address))
	}
	var dbs []string
	for _, db := range strings.Fields(m.l.MetaSQL(m.t, "SHOW DATABASES")) {
		if strings.HasPrefix(db, "oms") {
			dbs = append(dbs, db)
		}
	}
	sort.Strings(dbs)
	lines = append(lines, "metadb: "+strings.Join(dbs, " "))
	st := m.omsrun(op, append([]string{"playbooks/status.hcl"}, op.statusArgs...)...)
	lines = append(lines, fmt.Sprintf("status exit %d", st.code))
	for _, ev := range jsonEvents(m.t, st.stdout) {
		switch ev["type"] {
		case "host_result":
			lines = append(lines, fmt.Sprintf("status %s %s: %s", ev["step"], ev["host"], ev["status"]))
		case "recap":
			lines = append(lines, fmt.Sprintf("status unhealthy: %v", ev["unhealthy"]))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// writeMatrixTable merges results into the markdown table in file: a row
// already there is replaced, the others are kept, so the matrix can be run
// an operation at a time.
func writeMatrixTable(file string, results [][4]string) error {
	const head = "| operation | point | signal | result |\n|---|---|---|---|\n"
	rows := map[string]string{}
	var order []string
	if b, err := os.ReadFile(file); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			cells := strings.Split(strings.Trim(line, "| "), " | ")
			if !strings.HasPrefix(line, "| ") || len(cells) != 4 || cells[0] == "operation" {
				continue
			}
			key := strings.Join(cells[:3], "|")
			rows[key] = line
			order = append(order, key)
		}
	}
	for _, r := range results {
		key := strings.Join(r[:3], "|")
		if _, ok := rows[key]; !ok {
			order = append(order, key)
		}
		rows[key] = "| " + strings.Join([]string{r[0], r[1], r[2], strings.ReplaceAll(r[3], "|", "/")}, " | ") + " |"
	}
	var b strings.Builder
	b.WriteString("# The interruption matrix\n\n")
	b.WriteString("Written by `make matrix` (internal/e2e/matrix_test.go; the rows are in matrix_rows_test.go).\n")
	b.WriteString("Each operation is interrupted at each point, by SIGINT and by SIGKILL of omsrun; one re-run must\n")
	b.WriteString("then leave exactly the state an uninterrupted run leaves (image, env, config.yaml and loaded-config\n")
	b.WriteString("hashes, mount folder, databases, no lock, what status.hcl reports). The re-run's duration is given.\n\n")
	fmt.Fprintf(&b, "Last updated %s.\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	b.WriteString(head)
	for _, k := range order {
		b.WriteString(rows[k] + "\n")
	}
	return os.WriteFile(file, []byte(b.String()), 0o644)
}

// runningConfig is the config the node's OMS runs with, as the stand-in
// serves it (GET :8089/oms/config, config.yaml as it loaded it): the keys a
// reload changes, and a hash of the whole. Read from the process, not from
// omsrun's own record of what it loaded (config.yaml.loaded-sha256), so a
// node omsrun believes reloaded but that is not shows up.
func runningConfig(addr string) string {
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get("http://" + addr + ":8089/oms/config")
	if err != nil {
		return "no answer"
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var cfg map[string]any
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &cfg) != nil {
		return fmt.Sprintf("HTTP %d %q", resp.StatusCode, b)
	}
	if d, ok := cfg["data"].(map[string]any); ok {
		cfg = d
	}
	canon, _ := json.Marshal(cfg) // map keys come out sorted
	nodes := cmNodes(nil, cfg)
	return fmt.Sprintf("cm_location=%v cm_nodes=%s dbs=%v,%v,%v sha256=%x", cfg["cm_location"], strings.Join(nodes, ","),
		cfg["drc_rm_db"], cfg["drc_cm_db"], cfg["drc_cm_heartbeat_db"], sha256.Sum256(canon))
}
