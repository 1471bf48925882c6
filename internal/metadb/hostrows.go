package metadb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/go-sql-driver/mysql"
)

// erNoSuchTable is MySQL's "table doesn't exist".
const erNoSuchTable = 1146

// HostRow is one node's registration in the CM database's `host` table.
type HostRow struct {
	IP string
	// Group is resource_group_id, the node's region (the resource group
	// whose name is its cm_location, docs/oms-facts.md S4); "" when null.
	Group string
}

// HostRows reads the nodes registered in the CM database's `host` table
// (docs/oms-facts.md S2, S4: one row per node, columns ip and
// resource_group_id), in ip order. A CM database or table that does not
// exist yet (no node ever started) holds none.
func HostRows(ctx context.Context, t Target, cmDB string) ([]HostRow, error) {
	db, err := open(t)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*t.timeout())
	defer cancel()
	rows, err := db.QueryContext(ctx, "SELECT ip, resource_group_id FROM "+quoteIdent(cmDB)+".`host` ORDER BY ip")
	var me *mysql.MySQLError
	if errors.As(err, &me) && (me.Number == erNoSuchTable || me.Number == erBadDB) {
		return nil, nil
	}
	if err != nil {
		return nil, t.classify(err)
	}
	defer rows.Close()
	var out []HostRow
	for rows.Next() {
		var ip, group sql.NullString
		if err := rows.Scan(&ip, &group); err != nil {
			return nil, t.classify(err)
		}
		out = append(out, HostRow{IP: ip.String, Group: group.String})
	}
	return out, rows.Err()
}

// DeleteHostRow removes a node's registration, as the scale-in procedure
// does by hand: delete from host where ip = '<ip>'.
func DeleteHostRow(ctx context.Context, t Target, cmDB, ip string) error {
	db, err := open(t)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "DELETE FROM "+quoteIdent(cmDB)+".`host` WHERE ip = ?", ip); err != nil {
		return fmt.Errorf("delete %s's row from %s.host: %w", ip, cmDB, t.classify(err))
	}
	return nil
}

func open(t Target) (*sql.DB, error) {
	conn, err := mysql.NewConnector(t.Config())
	if err != nil {
		return nil, &Error{Kind: Other, Addr: t.Addr(), User: t.User, Err: err}
	}
	return sql.OpenDB(conn), nil
}
