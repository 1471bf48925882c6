package main

import (
	"context"
	"database/sql"
	"fmt"
)

// haTable is where the real OMS keeps its system parameters, in the rm
// database; `ha.config` is the one an upgrade reads (obd upgrade_pre.py
// refuses while any of its enable* keys is true; docs/oms-facts.md U4).
const haTable = "oms_normal_config"

// createHAConfig models OMS's first initialisation of the system
// parameters: HA off, as a fresh OMS has it (the console turns it on). It
// runs with the schema, once: a later start keeps what the operator set.
func createHAConfig(ctx context.Context, conn *sql.Conn, rmDB string) error {
	table := "`" + rmDB + "`.`" + haTable + "`"
	if _, err := conn.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+table+
		" (id BIGINT AUTO_INCREMENT PRIMARY KEY, cfg_name VARCHAR(128) NOT NULL UNIQUE, cfg_value TEXT)"); err != nil {
		return fmt.Errorf("create %s: %w", table, err)
	}
	if _, err := conn.ExecContext(ctx, "INSERT IGNORE INTO "+table+" (cfg_name, cfg_value) VALUES ('ha.config', '{\"enable\":false}')"); err != nil {
		return fmt.Errorf("fill %s: %w", table, err)
	}
	return nil
}
