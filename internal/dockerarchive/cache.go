package dockerarchive

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Cache remembers archives by file identity (absolute path, size and
// modification time), in memory for one run and on disk across runs, because
// finding the manifest of a multi-gigabyte gzip means decompressing all of
// it. Concurrent reads of the same file (one per host) share one read.
type Cache struct {
	dir string // "" keeps answers in memory only

	mu    sync.Mutex
	calls map[string]*call
}

type call struct {
	done chan struct{}
	a    *Archive
	err  error
}

// NewCache returns a cache that persists answers under dir ("" for none).
func NewCache(dir string) *Cache { return &Cache{dir: dir, calls: map[string]*call{}} }

// DefaultDir is where omsrun keeps what it learnt about archives:
// $XDG_CACHE_HOME/omsrun/dockerarchive or its platform equivalent, "" when
// the user has no cache directory.
func DefaultDir() string {
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "omsrun", "dockerarchive")
}

// Read returns what the archive at path holds, reading it only when this
// version of the file has not been read before.
func (c *Cache) Read(path string) (*Archive, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, err
	}
	key := fmt.Sprintf("%s\x00%d\x00%d", abs, st.Size(), st.ModTime().UnixNano())
	c.mu.Lock()
	if cl, ok := c.calls[key]; ok {
		c.mu.Unlock()
		<-cl.done
		return cl.a, cl.err
	}
	cl := &call{done: make(chan struct{})}
	c.calls[key] = cl
	c.mu.Unlock()

	cl.a, cl.err = c.load(abs, key)
	if cl.err != nil {
		// Errors are not remembered: the next caller may find the file fixed.
		c.mu.Lock()
		delete(c.calls, key)
		c.mu.Unlock()
	}
	close(cl.done)
	return cl.a, cl.err
}

func (c *Cache) load(abs, key string) (*Archive, error) {
	file := c.file(key)
	if file != "" {
		if b, err := os.ReadFile(file); err == nil {
			var a Archive
			if json.Unmarshal(b, &a) == nil && a.Format == format && a.Path == abs && len(a.Images) > 0 {
				return &a, nil
			}
		}
	}
	a, err := Read(abs)
	if err != nil {
		return nil, err
	}
	// The file may have changed while it was read; then the key no longer
	// describes what was read and the answer must not be kept on disk.
	if st, err := os.Stat(abs); err == nil && st.Size() == a.Size && st.ModTime().Equal(a.ModTime) && file != "" {
		c.store(file, a)
	}
	return a, nil
}

// store writes the answer atomically; a cache that cannot be written is only
// slower, so errors are dropped.
func (c *Cache) store(file string, a *Archive) {
	b, err := json.Marshal(a)
	if err != nil {
		return
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".tmp-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), file) != nil {
		os.Remove(tmp.Name())
	}
}

func (c *Cache) file(key string) string {
	if c.dir == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(c.dir, hex.EncodeToString(sum[:])+".json")
}
