package modules

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"
)

// Two hosts meet while a third finishes without meeting: fn runs once,
// with the two in inventory order and every published value.
func TestGroupMeetsOnceWithoutTheHostsThatFinished(t *testing.T) {
	g := NewGroup([]string{"a", "b", "c"})
	g.Put("c", "has it")
	var runs int
	var mu sync.Mutex
	got := map[string]any{}
	var wg sync.WaitGroup
	for _, h := range []string{"b", "a"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, ok := g.Meet(context.Background(), h, func(met []string, vals map[string]any) map[string]any {
				mu.Lock()
				runs++
				mu.Unlock()
				if !reflect.DeepEqual(met, []string{"a", "b"}) || vals["c"] != "has it" {
					t.Errorf("met %v, vals %v", met, vals)
				}
				return map[string]any{"a": 1, "b": 2}
			})
			mu.Lock()
			got[h] = v
			mu.Unlock()
			if !ok {
				t.Errorf("%s: no meeting", h)
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	g.Finish("c")
	wg.Wait()
	if runs != 1 || got["a"] != 1 || got["b"] != 2 {
		t.Errorf("runs %d, results %v", runs, got)
	}
	// A retry after the meeting finds none, and a nil group never meets.
	if _, ok := g.Meet(context.Background(), "a", nil); ok {
		t.Error("a second meeting")
	}
	var none *Group
	none.Put("a", 1)
	none.Finish("a")
	if _, ok := none.Meet(context.Background(), "a", nil); ok {
		t.Error("a nil group met")
	}
}

// A host waiting for others gives up when its context ends.
func TestGroupMeetEndsWithTheContext(t *testing.T) {
	g := NewGroup([]string{"a", "b"})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, ok := g.Meet(ctx, "a", nil); ok {
		t.Error("met without b")
	}
}
