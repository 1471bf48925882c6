package main

import (
	"context"
	"database/sql"
	"net"
	"os"
	"time"

	"github.com/go-sql-driver/mysql"
)

// heartbeatTable is the real product's heartbeat table in each region's
// heartbeat database, misspelled as OMS spells it (obd meta_backup.py and
// the upgrade docs trim it before a backup; docs/oms-facts.md U6).
const heartbeatTable = "heatbeat_sequence"

// metaConfig is how the stand-in reaches the MetaDB named in config.yaml.
func metaConfig(cfg config) *mysql.Config {
	mc := mysql.NewConfig()
	mc.User = cfg.str("oms_meta_user")
	mc.Passwd = cfg.str("oms_meta_password")
	mc.Net = "tcp"
	mc.Addr = net.JoinHostPort(cfg.str("oms_meta_host"), cfg.str("oms_meta_port"))
	mc.Timeout = 3 * time.Second
	return mc
}

// heartbeat writes one row a second into the heartbeat database for as long
// as the services run, naming the node and the version, as a running OMS
// keeps writing to its MetaDB. A backup taken while any node still runs
// therefore misses rows that node writes afterwards: the upgrade tests tell
// a backup taken after every old node stopped from one taken too early.
func (s *supervisor) heartbeat(cfg config) {
	connector, err := mysql.NewConnector(metaConfig(cfg))
	if err != nil {
		return
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	db.SetMaxOpenConns(1)
	table := "`" + cfg.str("drc_cm_heartbeat_db") + "`.`" + heartbeatTable + "`"
	node := os.Getenv("OMS_HOST_IP")
	created := false
	for range time.Tick(time.Second) {
		s.mu.Lock()
		running := s.state == "RUNNING"
		s.mu.Unlock()
		if !running {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if !created {
			_, err = db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+table+
				" (id BIGINT AUTO_INCREMENT PRIMARY KEY, node VARCHAR(64), version VARCHAR(64), beat TIMESTAMP(3) DEFAULT CURRENT_TIMESTAMP(3))")
			created = err == nil
		}
		if created {
			// A failed beat is skipped, as a node cut off from the MetaDB
			// skips beats; the next second tries again.
			_, _ = db.ExecContext(ctx, "INSERT INTO "+table+" (node, version) VALUES (?, ?)", node, s.version)
		}
		cancel()
	}
}
