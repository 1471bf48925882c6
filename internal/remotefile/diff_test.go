package remotefile

import (
	"strings"
	"testing"
)

func TestDiff(t *testing.T) {
	tests := []struct {
		name, old, new, want string
		redact               func(string) string
	}{
		{name: "equal", old: "a\nb\n", new: "a\nb\n", want: ""},
		{name: "one line changed", old: "a\nb\nc\n", new: "a\nB\nc\n",
			want: "--- before\n+++ after\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"},
		{name: "create", old: "", new: "x\ny\n", want: "--- before\n+++ after\n@@ -0,0 +1,2 @@\n+x\n+y\n"},
		{name: "delete all", old: "x\n", new: "", want: "--- before\n+++ after\n@@ -1,1 +0,0 @@\n-x\n"},
		{name: "append", old: "a\n", new: "a\nb\n", want: "--- before\n+++ after\n@@ -1,1 +1,2 @@\n a\n+b\n"},
		{name: "no newline at end", old: "a\nb", new: "a\nb\n",
			want: "--- before\n+++ after\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n"},
		{name: "two hunks", old: "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n", new: "x\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\ny\n",
			want: "--- before\n+++ after\n@@ -1,4 +1,4 @@\n-1\n+x\n 2\n 3\n 4\n@@ -9,4 +9,4 @@\n 9\n 10\n 11\n-12\n+y\n"},
		{name: "redacted", old: "user: a\npassword: \"old-secret\"\n", new: "user: a\npassword: \"new-secret\"\n",
			redact: func(s string) string {
				return strings.NewReplacer("old-secret", "********", "new-secret", "********").Replace(s)
			},
			want: "--- before\n+++ after\n@@ -1,2 +1,2 @@\n user: a\n-password: \"********\"\n+password: \"********\"\n"},
		{name: "binary", old: "a\x00", new: "b", want: "binary content differs (2 bytes → 1 bytes)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Diff([]byte(tt.old), []byte(tt.new), tt.redact)
			if got != tt.want {
				t.Fatalf("Diff:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}
