package oms

import (
	"bytes"
	"testing"

	"github.com/omsrun/omsrun/internal/relay"
	"github.com/omsrun/omsrun/modules/modtest"
)

// A relay node's stderr, in writes cut anywhere: its counts become the
// host's progress (never above the total it reports), every other line
// goes on whole, and a last line without a newline still reaches the
// error message.
func TestNodeProgress(t *testing.T) {
	var rest bytes.Buffer
	rep := &modtest.Reporter{}
	p := &nodeProgress{w: &rest, rep: rep, total: 100}
	stream := relay.ListeningLine + "\n" + relay.ReceivedLine + "40\n" + relay.ReceivedLine + "120\nrelay: interrupted"
	for i := 0; i < len(stream); i += 7 {
		p.Write([]byte(stream[i:min(i+7, len(stream))]))
	}
	p.flush()
	if got, want := rest.String(), relay.ListeningLine+"\nrelay: interrupted"; got != want {
		t.Errorf("passed on %q, want %q", got, want)
	}
	if got := rep.ByteLog; len(got) != 2 || got[0] != [2]int64{40, 100} || got[1] != [2]int64{120, 120} {
		t.Errorf("progress %v, want [40 100] [120 120]", got)
	}
}
