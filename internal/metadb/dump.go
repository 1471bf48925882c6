package metadb

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Dump writes a logical backup of dbs to w: for each database its CREATE
// DATABASE, then every table's CREATE TABLE and its rows as INSERTs. The
// output restores with any MySQL client (or Restore). Rows are streamed, so
// memory stays flat however large the tables are.
func Dump(ctx context.Context, t Target, dbs []string, w io.Writer) (tables int, rows int64, err error) {
	conn, err := mysql.NewConnector(t.Config())
	if err != nil {
		return 0, 0, err
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		return 0, 0, t.classify(err)
	}
	fmt.Fprintf(w, "-- omsrun MetaDB backup of %s, %s\nSET FOREIGN_KEY_CHECKS=0;\n", strings.Join(dbs, ", "), time.Now().UTC().Format(time.RFC3339))
	for _, name := range dbs {
		n, r, err := dumpDatabase(ctx, db, name, w)
		tables += n
		rows += r
		if err != nil {
			return tables, rows, fmt.Errorf("dump %s: %w", name, t.classify(err))
		}
	}
	_, err = io.WriteString(w, "SET FOREIGN_KEY_CHECKS=1;\n")
	return tables, rows, err
}

var numberRe = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$`)

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

func dumpDatabase(ctx context.Context, db *sql.DB, name string, w io.Writer) (int, int64, error) {
	var dbName, create string
	if err := db.QueryRowContext(ctx, "SHOW CREATE DATABASE "+quoteIdent(name)).Scan(&dbName, &create); err != nil {
		return 0, 0, err
	}
	fmt.Fprintf(w, "\n%s;\nUSE %s;\n", strings.Replace(create, "CREATE DATABASE", "CREATE DATABASE IF NOT EXISTS", 1), quoteIdent(name))
	rs, err := db.QueryContext(ctx, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME", name)
	if err != nil {
		return 0, 0, err
	}
	var tables []string
	for rs.Next() {
		var tn string
		if err := rs.Scan(&tn); err != nil {
			rs.Close()
			return 0, 0, err
		}
		tables = append(tables, tn)
	}
	rs.Close()
	var total int64
	for _, tn := range tables {
		n, err := dumpTable(ctx, db, name, tn, w)
		total += n
		if err != nil {
			return len(tables), total, err
		}
	}
	return len(tables), total, nil
}

func dumpTable(ctx context.Context, db *sql.DB, dbName, table string, w io.Writer) (int64, error) {
	full := quoteIdent(dbName) + "." + quoteIdent(table)
	var tn, create string
	if err := db.QueryRowContext(ctx, "SHOW CREATE TABLE "+full).Scan(&tn, &create); err != nil {
		return 0, err
	}
	fmt.Fprintf(w, "\nDROP TABLE IF EXISTS %s;\n%s;\n", quoteIdent(table), create)
	rows, err := db.QueryContext(ctx, "SELECT * FROM "+full)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.ColumnTypes()
	if err != nil {
		return 0, err
	}
	numeric := make([]bool, len(cols))
	for i, c := range cols {
		switch c.DatabaseTypeName() {
		case "TINYINT", "SMALLINT", "MEDIUMINT", "INT", "INTEGER", "BIGINT", "UNSIGNED TINYINT", "UNSIGNED SMALLINT",
			"UNSIGNED MEDIUMINT", "UNSIGNED INT", "UNSIGNED BIGINT", "DECIMAL", "FLOAT", "DOUBLE", "YEAR":
			numeric[i] = true
		}
	}
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var n int64
	var b strings.Builder
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		b.Reset()
		fmt.Fprintf(&b, "INSERT INTO %s VALUES (", quoteIdent(table))
		for i, v := range vals {
			if i > 0 {
				b.WriteString(",")
			}
			if v == nil {
				b.WriteString("NULL")
				continue
			}
			// Numbers go as their decimal text (a hex literal would be read
			// as the number its bytes make); everything else as a hex
			// literal, which carries any bytes exactly with no escaping rules.
			if numeric[i] && numberRe.Match(v) {
				b.Write(v)
				continue
			}
			if len(v) == 0 {
				b.WriteString("''")
				continue
			}
			b.WriteString("0x")
			b.WriteString(hex.EncodeToString(v))
		}
		b.WriteString(");\n")
		if _, err := io.WriteString(w, b.String()); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// Restore runs a Dump's statements against the server, one at a time.
// rename maps database names in the dump to the names to restore into
// (nil keeps them), so a backup can be tried out in a scratch database.
func Restore(ctx context.Context, t Target, dump string, rename map[string]string) error {
	conn, err := mysql.NewConnector(t.Config())
	if err != nil {
		return err
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	// USE must apply to the statements after it, so keep to one connection.
	c, err := db.Conn(ctx)
	if err != nil {
		return t.classify(err)
	}
	defer c.Close()
	for from, to := range rename {
		dump = strings.ReplaceAll(dump, quoteIdent(from), quoteIdent(to))
	}
	for _, stmt := range splitStatements(dump) {
		if _, err := c.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("restore: %.80s…: %w", stmt, err)
		}
	}
	return nil
}

// splitStatements splits a dump at the semicolons that end its lines. A Dump
// never has a line-final semicolon inside a value: values are hex literals.
func splitStatements(dump string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(dump, "\n") {
		if strings.HasPrefix(line, "--") || strings.TrimSpace(line) == "" && cur.Len() == 0 {
			continue
		}
		cur.WriteString(line)
		cur.WriteString("\n")
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	return out
}

// Drop drops each database in dbs.
func Drop(ctx context.Context, t Target, dbs []string) error {
	conn, err := mysql.NewConnector(t.Config())
	if err != nil {
		return err
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	for _, name := range dbs {
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(name)); err != nil {
			return fmt.Errorf("drop %s: %w", name, t.classify(err))
		}
	}
	return nil
}
