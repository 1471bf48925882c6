package metadb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/go-sql-driver/mysql"
)

func (t Target) open() *sql.DB {
	conn, _ := mysql.NewConnector(t.Config()) // only fails on a malformed config, which Config never makes
	return sql.OpenDB(conn)
}

// HAEnabled reads OMS's high-availability switch the way obd's upgrade
// check does (plugins/oms/1.0.0/upgrade_pre.py): cfg_value of `ha.config`
// in the rm database's oms_normal_config, as JSON; on is any key whose name
// contains "enable" with a true value. It returns those keys. found is
// false when the row (or the table) is absent: an OMS that never started.
func HAEnabled(ctx context.Context, t Target, rmDB string) (on []string, found bool, err error) {
	db := t.open()
	defer db.Close()
	var v string
	err = db.QueryRowContext(ctx, "SELECT cfg_value FROM "+quoteIdent(rmDB)+".oms_normal_config WHERE cfg_name = 'ha.config'").Scan(&v)
	var me *mysql.MySQLError
	switch {
	case errors.Is(err, sql.ErrNoRows), errors.As(err, &me) && me.Number == 1146: // no such table
		return nil, false, nil
	case err != nil:
		return nil, false, t.classify(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal([]byte(v), &cfg); err != nil {
		return nil, true, fmt.Errorf("%s.oms_normal_config ha.config is not JSON (%q): %w", rmDB, v, err)
	}
	for k, val := range cfg {
		if !strings.Contains(strings.ToLower(k), "enable") {
			continue
		}
		switch x := val.(type) {
		case bool:
			if x {
				on = append(on, k)
			}
		case string:
			if strings.EqualFold(x, "true") {
				on = append(on, k)
			}
		case float64:
			if x != 0 {
				on = append(on, k)
			}
		}
	}
	sort.Strings(on)
	return on, true, nil
}

// TrimHeartbeat deletes every heartbeat row but the newest from db's
// heatbeat_sequence (the product's spelling), as obd's meta_backup.py and
// the upgrade docs do before the dump: the rows are only liveness beats.
// A database without the table is left alone. It returns the rows deleted.
func TrimHeartbeat(ctx context.Context, t Target, db string) (int64, error) {
	c := t.open()
	defer c.Close()
	table := quoteIdent(db) + ".`heatbeat_sequence`"
	var max sql.NullInt64
	err := c.QueryRowContext(ctx, "SELECT MAX(id) FROM "+table).Scan(&max)
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == 1146 {
		return 0, nil
	}
	if err != nil {
		return 0, t.classify(err)
	}
	if !max.Valid {
		return 0, nil
	}
	res, err := c.ExecContext(ctx, "DELETE FROM "+table+" WHERE id < ?", max.Int64)
	if err != nil {
		return 0, t.classify(err)
	}
	return res.RowsAffected()
}
