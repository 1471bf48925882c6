package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/go-sql-driver/mysql"
)

// schemaTable marks a MetaDB whose schema a node has finished creating. It
// lives in the MetaDB itself, so it goes with the databases.
const schemaTable = "standin_schema"

// initMetaDB creates the three databases and, on an empty MetaDB, the
// schema, as OMS's first start does. The schema takes the start-up delay to
// create, and the node holds a MariaDB lock named after the CM database
// while it does: a second node that finds the lock taken is initialising
// the same empty MetaDB at the same moment, which the real product does not
// survive (they race on the schema), so it fails loudly. GET_LOCK, not a
// marker file: the server frees it when its holder's connection dies, so a
// crashed node never leaves it behind.
func initMetaDB(cfg config, delay time.Duration, lg *initLog) error {
	mc := metaConfig(cfg)
	connector, err := mysql.NewConnector(mc)
	if err != nil {
		return err
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second+delay)
	defer cancel()
	// One connection for everything: GET_LOCK belongs to a session.
	conn, err := connectRetrying(ctx, db)
	if err != nil {
		return fmt.Errorf("connect to %s as %s: %w", mc.Addr, mc.User, err)
	}
	defer conn.Close()
	for _, name := range cfg.databases() {
		if _, err := conn.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS `"+name+"`"); err != nil {
			return fmt.Errorf("create database %s: %w", name, err)
		}
	}
	cmDB := cfg.str("drc_cm_db")
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", cmDB, schemaTable).Scan(&n); err != nil {
		return fmt.Errorf("read the schema of %s: %w", cmDB, err)
	}
	if n > 0 {
		lg.infof("metadb schema already present in %s; starting the services", cmDB)
		time.Sleep(delay)
		return nil
	}
	lock := "oms_schema_init:" + cmDB
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, 0)", lock).Scan(&got); err != nil {
		return fmt.Errorf("lock %s: %w", lock, err)
	}
	if got.Int64 != 1 {
		var holder sql.NullInt64
		_ = conn.QueryRowContext(ctx, "SELECT IS_USED_LOCK(?)", lock).Scan(&holder)
		return fmt.Errorf("another OMS node is initialising the same empty MetaDB (%s) at the same time (MetaDB connection %d holds %q); "+
			"the schema would be created twice: start the first node alone until it is healthy, then the others",
			cmDB, holder.Int64, lock)
	}
	lg.infof("creating the metadb schema in %s (holding %q)", cmDB, lock)
	time.Sleep(delay)
	if _, err := conn.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS `"+cmDB+"`.`"+schemaTable+"` (node VARCHAR(64), created TIMESTAMP DEFAULT CURRENT_TIMESTAMP)"); err != nil {
		return fmt.Errorf("create the schema in %s: %w", cmDB, err)
	}
	if _, err := conn.ExecContext(ctx, "INSERT INTO `"+cmDB+"`.`"+schemaTable+"` (node) VALUES (?)", os.Getenv("OMS_HOST_IP")); err != nil {
		return fmt.Errorf("create the schema in %s: %w", cmDB, err)
	}
	if err := createHAConfig(ctx, conn, cfg.str("drc_rm_db")); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "DO RELEASE_LOCK(?)", lock); err != nil {
		return fmt.Errorf("release %s: %w", lock, err)
	}
	lg.infof("metadb databases ready: %v", cfg.databases())
	return nil
}

// connectRetrying waits for the MetaDB, which may come up after the
// container; a server's answer (bad password, no privilege) ends the wait.
func connectRetrying(ctx context.Context, db *sql.DB) (*sql.Conn, error) {
	for {
		conn, err := db.Conn(ctx)
		if err == nil {
			if err = conn.PingContext(ctx); err == nil {
				return conn, nil
			}
			conn.Close()
		}
		var me *mysql.MySQLError
		if errors.As(err, &me) || ctx.Err() != nil {
			return nil, err
		}
		time.Sleep(500 * time.Millisecond)
	}
}
