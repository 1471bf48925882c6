package main

import (
	"context"
	"database/sql"
	"os"
	"time"

	"github.com/go-sql-driver/mysql"
)

// registerHost writes this node's row into the CM database's `host` table
// at every start, as the real CM registers its node: ip = OMS_HOST_IP and,
// standing in for the real resource_group_id (the region's group,
// docs/oms-facts.md S4), cm_location. A node scaled in without deleting its
// row therefore stays registered, and the tests can see it.
func registerHost(cfg config) error {
	connector, err := mysql.NewConnector(metaConfig(cfg))
	if err != nil {
		return err
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	table := "`" + cfg.str("drc_cm_db") + "`.`host`"
	if _, err := db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+table+
		" (ip VARCHAR(64) NOT NULL PRIMARY KEY, resource_group_id BIGINT, gmt_modified TIMESTAMP DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP)"); err != nil {
		return err
	}
	group, _ := cfg.integer("cm_location")
	_, err = db.ExecContext(ctx, "INSERT INTO "+table+" (ip, resource_group_id) VALUES (?, ?) ON DUPLICATE KEY UPDATE resource_group_id = VALUES(resource_group_id)",
		os.Getenv("OMS_HOST_IP"), group)
	return err
}
