package metadb

import (
	"reflect"
	"testing"
)

func TestSplitStatements(t *testing.T) {
	dump := "-- header\nSET FOREIGN_KEY_CHECKS=0;\n\nCREATE TABLE `t` (\n  `id` int\n);\nINSERT INTO `t` VALUES (1,0x3b0a);\n"
	want := []string{"SET FOREIGN_KEY_CHECKS=0", "CREATE TABLE `t` (\n  `id` int\n)", "INSERT INTO `t` VALUES (1,0x3b0a)"}
	if got := splitStatements(dump); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func TestNumberText(t *testing.T) {
	for s, ok := range map[string]bool{"1": true, "-12.5": true, "1e10": true, "0x10": false, "1;DROP": false, "": false} {
		if numberRe.MatchString(s) != ok {
			t.Errorf("%q: want %v", s, ok)
		}
	}
}
