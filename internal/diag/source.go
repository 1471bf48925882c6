package diag

import (
	"bytes"
	"io"
	"os"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// MaxFileSize bounds every playbook, inventory and var file. Real ones are a
// few KiB; anything this large is a mistake (a log or an image passed by
// accident) and parsing it would only waste memory.
const MaxFileSize = 10 << 20

// ReadFile reads a source file and refuses what cannot be a config file:
// too large, empty, binary, or not UTF-8.
func ReadFile(path string) ([]byte, hcl.Diagnostics) {
	f, err := os.Open(path)
	if err != nil {
		return nil, hcl.Diagnostics{Errorf(FileStart(path), "Cannot read file",
			"%v. Check the path and its permissions.", err)}
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, hcl.Diagnostics{Errorf(FileStart(path), "Not a file",
			"%s is a directory; give the path of a file.", path)}
	}
	// Read one byte past the limit so that "exactly the limit" still loads.
	src, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, hcl.Diagnostics{Errorf(FileStart(path), "Cannot read file",
			"%v. Check the path and its permissions.", err)}
	}
	if len(src) > MaxFileSize {
		return nil, hcl.Diagnostics{Errorf(FileStart(path), "File too large",
			"The file is larger than %d MiB, which no playbook, inventory or var file should be; check that the right file was given.", MaxFileSize>>20)}
	}
	return src, CheckSource(path, src)
}

// CheckSource refuses empty, binary and non-UTF-8 sources with a position.
func CheckSource(filename string, src []byte) hcl.Diagnostics {
	if len(bytes.TrimSpace(src)) == 0 {
		return hcl.Diagnostics{Errorf(FileStart(filename), "Empty file",
			"The file is empty. Write its content, or remove it from the command line (a directory's empty files must be removed too).")}
	}
	if i := bytes.IndexByte(src, 0); i >= 0 {
		return hcl.Diagnostics{Errorf(At(filename, src, i), "Binary file",
			"The file contains a NUL byte here, so it looks like a binary file rather than text; check that the right file was given.")}
	}
	if !utf8.Valid(src) {
		i := firstInvalid(src)
		return hcl.Diagnostics{Errorf(At(filename, src, i), "Invalid UTF-8",
			"The byte 0x%02x here is not valid UTF-8. Save the file as UTF-8 (for example with iconv -t UTF-8).", src[i])}
	}
	return CheckNesting(filename, src)
}

// MaxNesting bounds how deep brackets may nest in any source. The parsers
// recurse once per level, so a file nested tens of thousands of levels
// would overflow the stack (a crash with a goroutine dump); no real
// playbook, inventory or var file comes near this.
const MaxNesting = 256

// CheckNesting refuses a source whose (, [ and { nest deeper than
// MaxNesting, at the bracket that goes too deep.
func CheckNesting(filename string, src []byte) hcl.Diagnostics {
	depth := 0
	for i, c := range src {
		switch c {
		case '(', '[', '{':
			if depth++; depth > MaxNesting {
				return hcl.Diagnostics{Errorf(At(filename, src, i), "Nested too deep",
					"Brackets are nested more than %d levels deep here, which no playbook, inventory or value needs; simplify it.", MaxNesting)}
			}
		case ')', ']', '}':
			if depth > 0 {
				depth--
			}
		}
	}
	return nil
}

func firstInvalid(src []byte) int {
	for i := 0; i < len(src); {
		r, n := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(src)
}

// At is the one-byte range at byte offset off of src, with line and column
// counted the way HCL does (columns in characters, 1-based).
func At(filename string, src []byte, off int) *hcl.Range {
	line, col := 1, 1
	for i := 0; i < off && i < len(src); {
		if src[i] == '\n' {
			line, col = line+1, 1
			i++
			continue
		}
		_, n := utf8.DecodeRune(src[i:])
		i += n
		col++
	}
	p := hcl.Pos{Line: line, Column: col, Byte: off}
	e := p
	if off < len(src) {
		e.Column++
		e.Byte++
	}
	return &hcl.Range{Filename: filename, Start: p, End: e}
}
